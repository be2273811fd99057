/**
 * A table in an existing local data directory whose indexes no longer match its definition (hookhub changed its
 * key design) is rebuilt with its items. DynamoDB on AWS changes indexes through UpdateTable; dynalite cannot, and
 * without this a data directory from an earlier release would silently list nothing through the new indexes.
 *
 * Crash-safe: every item is written to a backup file (synced) before the table is dropped, and the backup is
 * removed only after the items are back. A start that finds a backup finishes the restore first.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ScanCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;

/** The parts of a table's shape that decide what a query through it returns. */
function indexShape(indexes: ReadonlyArray<{ IndexName?: string; KeySchema?: unknown; Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] } }> | undefined): string {
  return JSON.stringify(
    (indexes ?? [])
      .map((index) => ({
        name: index.IndexName,
        keys: index.KeySchema,
        projection: index.Projection?.ProjectionType,
        attributes: [...(index.Projection?.NonKeyAttributes ?? [])].sort(),
      }))
      .sort((left, right) => String(left.name).localeCompare(String(right.name))),
  );
}

export async function migrateTableIfChanged(client: DynamoDBClient, wanted: CreateTableCommandInput, backupPath: string): Promise<'unchanged' | 'rebuilt'> {
  const tableName = wanted.TableName!;
  if (existsSync(backupPath)) {
    await rebuild(client, wanted, JSON.parse(readFileSync(backupPath, 'utf8')) as Item[]);
    rmSync(backupPath);
    return 'rebuilt';
  }
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (indexShape(Table?.GlobalSecondaryIndexes) === indexShape(wanted.GlobalSecondaryIndexes)) return 'unchanged';

  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  writeDurably(backupPath, JSON.stringify(items));
  await rebuild(client, wanted, items);
  rmSync(backupPath);
  return 'rebuilt';
}

async function rebuild(client: DynamoDBClient, wanted: CreateTableCommandInput, items: Item[]): Promise<void> {
  const tableName = wanted.TableName!;
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  // dynalite finishes a delete, and a create, a moment after answering (as DynamoDB does, only faster).
  await waitForTable(client, tableName, (status) => status === undefined);
  await client.send(new CreateTableCommand(wanted));
  await waitForTable(client, tableName, (status) => status === 'ACTIVE');
  for (let start = 0; start < items.length; start += 25) {
    let requests = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
      requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
}

async function waitForTable(client: DynamoDBClient, tableName: string, reached: (status: string | undefined) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    let status: string | undefined;
    try {
      status = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
    if (reached(status)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`local table ${tableName} did not reach the expected state within 10 s`);
}

function writeDurably(path: string, text: string): void {
  const temporary = `${path}.tmp`;
  const descriptor = openSync(temporary, 'w');
  try {
    writeSync(descriptor, text);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temporary, path);
}
