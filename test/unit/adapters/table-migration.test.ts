/**
 * A local data directory from a release with other indexes is rebuilt with its items, also after a crash in the
 * middle of the rebuild, so an upgrade never hides or loses stored events.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { waitUntil } from '../../fixtures/local-clients';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { LocalDynamoDb } from '../../../lib/local/local-dynamodb';
import type { TableDefinition } from '../../../lambdas/adapters/dynamodb/table-definitions';

const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-table-migration-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const key = { name: 'id', type: 'S' } as const;
const dayIndex = { indexName: 'byDay', partitionKey: { name: 'day', type: 'S' }, sortKey: { name: 'at', type: 'S' } } as const;
const before: TableDefinition = {
  logicalName: 'Items',
  partitionKey: key,
  timeToLiveAttribute: 'expiresAt',
  indexes: [
    { ...dayIndex, projection: { type: 'KEYS_ONLY' } },
    { indexName: 'byKind', partitionKey: { name: 'kind', type: 'S' }, projection: { type: 'KEYS_ONLY' } },
  ],
};
const after: TableDefinition = { ...before, indexes: [{ ...dayIndex, projection: { type: 'INCLUDE', attributes: ['kind'] } }] };
const items = Array.from({ length: 60 }, (_, index) => ({ id: `item-${index}`, day: '2026-12-02', at: String(index).padStart(3, '0'), kind: index % 2 ? 'odd' : 'even' }));

it('rebuilds a table whose indexes changed, keeping every item, and leaves an unchanged table alone', async () => {
  const path = join(dataDir, 'changed');
  const first = new LocalDynamoDb(path);
  await first.start();
  await first.ensureTables([{ definition: before, tableName: 'items' }]);
  const writer = DynamoDBDocumentClient.from(first.client());
  for (const item of items) await writer.send(new PutCommand({ TableName: 'items', Item: item }));
  writer.destroy();
  await first.stop();

  const second = new LocalDynamoDb(path);
  await second.start();
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  await second.ensureTables([{ definition: after, tableName: 'items' }]);
  expect(log).toHaveBeenCalledWith(expect.stringContaining('rebuilt local table items'));
  log.mockClear();
  await second.ensureTables([{ definition: after, tableName: 'items' }]);
  expect(log).not.toHaveBeenCalled();
  log.mockRestore();

  const reader = DynamoDBDocumentClient.from(second.client());
  const described = await second.client().send(new DescribeTableCommand({ TableName: 'items' }));
  expect(described.Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byDay']);
  const all = await reader.send(new ScanCommand({ TableName: 'items' }));
  expect(all.Items).toHaveLength(60);
  const page = await reader.send(new QueryCommand({ TableName: 'items', IndexName: 'byDay', KeyConditionExpression: '#day = :d', ExpressionAttributeNames: { '#day': 'day' }, ExpressionAttributeValues: { ':d': '2026-12-02' } }));
  expect(page.Items).toHaveLength(60);
  expect(page.Items![0]).toHaveProperty('kind');
  reader.destroy();
  await second.stop();
});

it('finishes a rebuild that a crash interrupted after the table was dropped, from the backup', async () => {
  const path = join(dataDir, 'interrupted');
  const store = new LocalDynamoDb(path);
  await store.start();
  await store.ensureTables([{ definition: before, tableName: 'items' }]);
  // The state a crash leaves between dropping the table and putting the items back.
  await store.client().send(new DeleteTableCommand({ TableName: 'items' }));
  await waitUntil(async () => !((await store.client().send(new ListTablesCommand({}))).TableNames ?? []).includes('items'), 10_000, 'the table to be dropped');
  await store.ensureTables([{ definition: after, tableName: 'items' }]);
  const backup = `${path}.rebuild-items.json`;
  writeFileSync(backup, JSON.stringify(items.map((item) => marshall(item))));

  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  await store.ensureTables([{ definition: after, tableName: 'items' }]);
  const reader = DynamoDBDocumentClient.from(store.client());
  expect((await reader.send(new ScanCommand({ TableName: 'items' }))).Items).toHaveLength(60);
  expect(existsSync(backup)).toBe(false);
  reader.destroy();
  await store.stop();
});
