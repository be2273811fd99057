/**
 * DynamoDB on one machine: dynalite (DynamoDB's API over LevelDB) persisted under the data dir, with the tables
 * created from the same definitions the CDK stack deploys. dynalite has no TTL, so `sweepExpired` plays it.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { TableDefinition } from '../../lambdas/adapters/dynamodb/table-definitions';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export class LocalDynamoDb {
  private server?: Server;
  endpoint = '';

  constructor(private readonly path: string) {}

  async start(port = 0): Promise<string> {
    mkdirSync(this.path, { recursive: true });
    this.server = dynalite({ path: this.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
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
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
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
