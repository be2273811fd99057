/**
 * DynamoDB on one machine: dynalite (DynamoDB's API over LevelDB) persisted under the data dir, with the tables
 * created from the same definitions the CDK stack deploys. It runs on a worker thread (dynalite-thread.js) so its
 * CPU work overlaps the handlers'. dynalite has no TTL, so `sweepExpired` plays it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { TableDefinition } from '../../lambdas/adapters/dynamodb/table-definitions';

export class LocalDynamoDb {
  private thread?: Worker;
  endpoint = '';

  constructor(private readonly path: string) {}

  async start(port = 0): Promise<string> {
    mkdirSync(this.path, { recursive: true });
    const thread = new Worker(join(__dirname, 'dynalite-thread.js'), { workerData: { path: this.path, port } });
    this.thread = thread;
    const listening = await new Promise<number>((resolve, reject) => {
      thread.once('error', reject);
      thread.on('message', (message: { type: string; port?: number; message?: string }) => {
        if (message.type === 'listening') resolve(message.port!);
        if (message.type === 'error') reject(new Error(`dynalite: ${message.message}`));
      });
    });
    this.endpoint = `http://127.0.0.1:${listening}`;
    return this.endpoint;
  }

  client(): DynamoDBClient {
    return new DynamoDBClient({ endpoint: this.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  }

  async ensureTables(tables: readonly { definition: TableDefinition; tableName: string }[]): Promise<void> {
    const client = this.client();
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const { definition, tableName } of tables) {
      if (!existing.has(tableName)) await client.send(new CreateTableCommand(createTableInput(definition, tableName)));
    }
    client.destroy();
  }

  /** Deletes items whose TTL attribute lies in the past, as DynamoDB's TTL process would (it, too, is lazy). */
  async sweepExpired(tables: readonly { definition: TableDefinition; tableName: string }[], nowSeconds: number): Promise<number> {
    const documents = DynamoDBDocumentClient.from(this.client());
    let deleted = 0;
    for (const { definition, tableName } of tables) {
      const keyNames = [definition.partitionKey.name, ...(definition.sortKey ? [definition.sortKey.name] : [])];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new ScanCommand({
            TableName: tableName,
            FilterExpression: '#ttl < :now',
            ExpressionAttributeNames: { '#ttl': definition.timeToLiveAttribute },
            ExpressionAttributeValues: { ':now': nowSeconds },
            ExclusiveStartKey: startKey,
          }),
        );
        const keys = (page.Items ?? []).map((item) => Object.fromEntries(keyNames.map((name) => [name, item[name]])));
        for (let start = 0; start < keys.length; start += 25) {
          await documents.send(
            new BatchWriteCommand({ RequestItems: { [tableName]: keys.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } })) } }),
          );
        }
        deleted += keys.length;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    documents.destroy();
    return deleted;
  }

  async stop(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    // Close the server (and LevelDB) cleanly, but never hang on a stuck connection.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      thread.on('message', (message: { type: string }) => {
        if (message.type === 'closed') {
          clearTimeout(timer);
          resolve();
        }
      });
      thread.postMessage('close');
    });
    await thread.terminate();
    this.thread = undefined;
  }
}

export function createTableInput(definition: TableDefinition, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, string>();
  const keyAttributes = [definition.partitionKey, definition.sortKey, ...definition.indexes.flatMap((index) => [index.partitionKey, index.sortKey])];
  for (const attribute of keyAttributes) if (attribute) attributes.set(attribute.name, attribute.type);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType: AttributeType as 'S' | 'N' })),
    KeySchema: [
      { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
      ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' as const }] : []),
    ],
    GlobalSecondaryIndexes: definition.indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : []),
      ],
      Projection:
        index.projection.type === 'INCLUDE'
          ? { ProjectionType: 'INCLUDE', NonKeyAttributes: index.projection.attributes }
          : { ProjectionType: 'KEYS_ONLY' },
    })),
  };
}
