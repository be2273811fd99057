/**
 * DynamoDB on one machine: dynalite (DynamoDB's API over LevelDB) persisted under the data dir, with the tables
 * created from the same definitions the CDK stack deploys. It runs on a worker thread (dynalite-thread.js) so its
 * CPU work overlaps the handlers'. dynalite has no TTL, so `sweepExpired` plays it.
 *
 * The store heals itself without a process restart: the thread reopens LevelDB after a failed write (a full disk),
 * and should the thread die anyway, a new one is started on the same port (the handlers' endpoint is fixed at
 * start) and path. What it reports is logged, since the runtime's output is what an operator reads.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { TableDefinition } from '../../lambdas/adapters/dynamodb/table-definitions';
import { migrateTableIfChanged } from './table-migration';
import { ThreadRelauncher } from './thread-relauncher';

export interface LocalDynamoDbOptions {
  /**
   * Every LevelDB write is synced to disk (`sync: true`, an fdatasync of its log) before it is acknowledged, so an
   * acknowledged write survives power loss, not just a crash of the process.
   * @default false
   */
  fsync?: boolean;
}

type ThreadMessage =
  | { type: 'listening'; port: number }
  | { type: 'error'; message: string }
  | { type: 'closed' }
  | { type: 'store-failed'; failed: 'write' | 'open'; message: string }
  | { type: 'store-retrying'; message: string }
  | { type: 'store-recovered'; attempts: number };


export class LocalDynamoDb {
  private thread?: Worker;
  private port = 0;
  private stopping = false;
  private readonly relauncher = new ThreadRelauncher({
    launch: () => this.launch(this.port),
    isStopping: () => this.stopping,
    onRunning: () => console.warn(`[dynamodb] ${this.path}: dynalite is serving again on port ${this.port}`),
    onLaunchFailed: (error) =>
      console.error(`[dynamodb] ${this.path}: could not restart dynalite (${error instanceof Error ? error.message : String(error)}); trying again`),
  });
  endpoint = '';
  /** Where the bounded TTL sweep of each table stopped (undefined: at the start of a new pass). */
  private readonly sweepCursors = new Map<string, Record<string, unknown> | undefined>();

  constructor(
    private readonly path: string,
    private readonly options: LocalDynamoDbOptions = {},
  ) {}

  async start(port = 0): Promise<string> {
    mkdirSync(this.path, { recursive: true });
    this.stopping = false;
    this.port = await this.launch(port);
    this.endpoint = `http://127.0.0.1:${this.port}`;
    return this.endpoint;
  }

  /** Starts a thread serving `port` (0: any free one) and resolves with the port once it listens. */
  private launch(port: number): Promise<number> {
    const thread = new Worker(join(__dirname, 'dynalite-thread.js'), { workerData: { path: this.path, port, fsync: this.options.fsync ?? false } });
    this.thread = thread;
    return new Promise<number>((resolve, reject) => {
      let listening = false;
      thread.on('message', (message: ThreadMessage) => {
        if (message.type === 'listening') {
          listening = true;
          resolve(message.port);
        } else if (message.type === 'error' && !listening) {
          reject(new Error(`dynalite: ${message.message}`));
          void thread.terminate();
        } else if (message.type === 'store-failed') {
          const what = message.failed === 'write' ? 'a write failed' : 'the store did not open';
          console.error(`[dynamodb] ${this.path}: ${what} (${message.message}); reopening it, every request gets a 500 until then`);
        } else if (message.type === 'store-retrying') {
          console.error(`[dynamodb] ${this.path}: cannot reopen yet (${message.message}); retrying until it can`);
        } else if (message.type === 'store-recovered') {
          console.warn(`[dynamodb] ${this.path}: store reopened; requests are served again`);
        }
      });
      thread.on('error', (error) => {
        if (!listening) reject(error);
        else console.error(`[dynamodb] ${this.path}: the dynalite thread failed:`, error);
      });
      thread.once('exit', (code) => {
        if (!listening) reject(new Error(`dynalite thread exited with ${code} before listening`));
        else if (!this.stopping && this.thread === thread) this.restart();
      });
    });
  }

  /** A new thread on the same port and path: the handlers were given this endpoint once, at start. */
  private restart(): void {
    console.error(`[dynamodb] ${this.path}: the dynalite thread ended unexpectedly; starting a new one on port ${this.port}`);
    this.thread = undefined;
    this.relauncher.relaunch();
  }

  client(): DynamoDBClient {
    return new DynamoDBClient({ endpoint: this.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  }

  async ensureTables(tables: readonly { definition: TableDefinition; tableName: string }[]): Promise<void> {
    const client = this.client();
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const { definition, tableName } of tables) {
      const wanted = createTableInput(definition, tableName);
      if (!existing.has(tableName)) await client.send(new CreateTableCommand(wanted));
      else if ((await migrateTableIfChanged(client, wanted, `${this.path}.rebuild-${tableName}.json`)) === 'rebuilt') {
        console.log(`hookhub: rebuilt local table ${tableName} with its items for the new index design`);
      }
    }
    client.destroy();
  }

  /** Deletes items whose TTL attribute lies in the past, as DynamoDB's TTL process would (it, too, is lazy). */
  /**
   * Deletes items past their TTL attribute, as DynamoDB's TTL would. With `maxScannedPerTable`, each call scans at
   * most that many items of each table and the next call continues where it stopped (a full pass per table takes
   * as many calls as its size needs): a full scan of every table at every tick grows with the data and took CPU from
   * the runtime under load. DynamoDB itself deletes expired items within days, not at once, so a slow pass is true
   * to it. Without the option, one call sweeps every table whole (tests).
   */
  async sweepExpired(
    tables: readonly { definition: TableDefinition; tableName: string }[],
    nowSeconds: number,
    options: { maxScannedPerTable?: number } = {},
  ): Promise<number> {
    const documents = DynamoDBDocumentClient.from(this.client());
    const bounded = options.maxScannedPerTable !== undefined;
    let deleted = 0;
    for (const { definition, tableName } of tables) {
      const keyNames = [definition.partitionKey.name, ...(definition.sortKey ? [definition.sortKey.name] : [])];
      let startKey: Record<string, unknown> | undefined = bounded ? this.sweepCursors.get(tableName) : undefined;
      let scanned = 0;
      do {
        const page = await documents.send(
          new ScanCommand({
            TableName: tableName,
            FilterExpression: '#ttl < :now',
            ExpressionAttributeNames: { '#ttl': definition.timeToLiveAttribute },
            ExpressionAttributeValues: { ':now': nowSeconds },
            ExclusiveStartKey: startKey,
            ...(bounded ? { Limit: Math.max(1, Math.min(1_000, options.maxScannedPerTable! - scanned)) } : {}),
          }),
        );
        scanned += page.ScannedCount ?? 0;
        const keys = (page.Items ?? []).map((item) => Object.fromEntries(keyNames.map((name) => [name, item[name]])));
        for (let start = 0; start < keys.length; start += 25) {
          await documents.send(
            new BatchWriteCommand({ RequestItems: { [tableName]: keys.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } })) } }),
          );
        }
        deleted += keys.length;
        startKey = page.LastEvaluatedKey;
      } while (startKey && (!bounded || scanned < options.maxScannedPerTable!));
      if (bounded) this.sweepCursors.set(tableName, startKey);
    }
    documents.destroy();
    return deleted;
  }

  async stop(): Promise<void> {
    this.stopping = true;
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
    // DynamoDB (and dynalite) refuse an empty index list: a table without indexes leaves the key out.
    ...(definition.indexes.length === 0 ? {} : { GlobalSecondaryIndexes: definition.indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : []),
      ],
      Projection:
        index.projection.type === 'INCLUDE'
          ? { ProjectionType: 'INCLUDE', NonKeyAttributes: index.projection.attributes }
          : { ProjectionType: index.projection.type },
    })) }),
  };
}
