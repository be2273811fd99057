/**
 * One contract suite for SyncStateStore, run against the DynamoDB adapter (real dynalite: conditional updates,
 * queries, pagination; no mocks) and the in-memory fake the core's tests use, so the two cannot drift.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { LocalDynamoDb } from '../../../lib/local/local-dynamodb';
import { ABLY_STATE_TABLE } from '../../../lambdas/adapters/dynamodb/table-definitions';
import { DynamoDbSyncStateStore } from '../../../lambdas/adapters/dynamodb/ably-state-store';
import type { SyncRun, SyncStateStore } from '../../../lambdas/providers/ably/ably-ports';
import { InMemorySyncStateStore } from '../../fixtures/in-memory-ably-state';

const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-ably-state-'));
const dynamodb = new LocalDynamoDb(dataDir);
let documents: DynamoDBDocumentClient;
const TABLE = 'ably-state';
const NOW = Date.parse('2026-11-23T12:00:00.000Z');

beforeAll(async () => {
  await dynamodb.start();
  await dynamodb.ensureTables([{ definition: ABLY_STATE_TABLE, tableName: TABLE }]);
  // No marshall options on purpose: the adapter must not depend on removeUndefinedValues.
  documents = DynamoDBDocumentClient.from(dynamodb.client());
});

afterAll(async () => {
  documents.destroy();
  await dynamodb.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Each test gets its own source id, so tests share the table without seeing each other's items. */
let sourceCounter = 0;
const freshSource = () => `src-${++sourceCounter}`;

function syncRun(source: string, runId: string, startedAt: string, overrides: Partial<SyncRun> = {}): SyncRun {
  return {
    runId,
    source,
    trigger: 'schedule',
    startedAt,
    finishedAt: startedAt,
    durationMs: 0,
    outcome: 'ok',
    channels: [{ channel: 'smartadmin-status', status: 'done', pages: 1, seen: 2, stored: 1, duplicates: 1, cursorMs: 5 }, { channel: 'quiet', status: 'busy', pages: 0, seen: 0, stored: 0, duplicates: 0 }],
    pages: 1,
    seen: 2,
    stored: 1,
    duplicates: 1,
    errors: [],
    ...overrides,
  };
}

describe.each([
  ['DynamoDbSyncStateStore', () => new DynamoDbSyncStateStore(documents, TABLE) as SyncStateStore],
  ['InMemorySyncStateStore', () => new InMemorySyncStateStore() as SyncStateStore],
])('%s', (_name, makeStore) => {
  let store: SyncStateStore;
  let source: string;
  beforeEach(() => {
    store = makeStore();
    source = freshSource();
  });

  it('gives a channel lease to one owner at a time, and hands the cursor to whoever holds it', async () => {
    expect(await store.acquireLease(source, 'ch', 'run-a', NOW, NOW + 60_000)).toEqual({ acquired: true });
    expect(await store.acquireLease(source, 'ch', 'run-b', NOW + 1_000, NOW + 61_000)).toEqual({ acquired: false });
    // Other channels and other sources are independent.
    expect(await store.acquireLease(source, 'other', 'run-b', NOW, NOW + 60_000)).toEqual({ acquired: true });
    expect(await store.acquireLease(`${source}-x`, 'ch', 'run-b', NOW, NOW + 60_000)).toEqual({ acquired: true });
    // The owner asking again (a retried call) keeps it.
    expect(await store.acquireLease(source, 'ch', 'run-a', NOW + 2_000, NOW + 62_000)).toEqual({ acquired: true });

    expect(await store.advanceCursor(source, 'ch', 'run-a', 1_000)).toBe(true);
    await store.releaseLease(source, 'ch', 'run-a');
    expect(await store.acquireLease(source, 'ch', 'run-b', NOW + 3_000, NOW + 63_000)).toEqual({ acquired: true, cursorMs: 1_000 });
  });

  it('lets another owner take an expired lease over; the old owner can then neither move the cursor nor release it', async () => {
    await store.acquireLease(source, 'ch', 'crashed', NOW, NOW + 10_000);
    expect(await store.acquireLease(source, 'ch', 'next', NOW + 9_999, NOW + 70_000)).toEqual({ acquired: false });
    expect(await store.acquireLease(source, 'ch', 'next', NOW + 10_000, NOW + 70_000)).toEqual({ acquired: true });

    expect(await store.advanceCursor(source, 'ch', 'crashed', 5_000)).toBe(false);
    await store.releaseLease(source, 'ch', 'crashed');
    // Still next's: a third owner is refused, and the crashed run's cursor write did not land.
    expect(await store.acquireLease(source, 'ch', 'third', NOW + 20_000, NOW + 80_000)).toEqual({ acquired: false });
    expect(await store.cursors(source)).toEqual([]);
  });

  it('moves the cursor forward only: the same value is a success, an older one changes nothing', async () => {
    await store.acquireLease(source, 'ch', 'run', NOW, NOW + 60_000);
    expect(await store.advanceCursor(source, 'ch', 'run', 2_000)).toBe(true);
    expect(await store.advanceCursor(source, 'ch', 'run', 2_000)).toBe(true);
    expect(await store.advanceCursor(source, 'ch', 'run', 1_500)).toBe(true);
    expect(await store.cursors(source)).toEqual([{ channel: 'ch', cursorMs: 2_000 }]);
    expect(await store.advanceCursor(source, 'ch', 'run', 3_000)).toBe(true);
    expect(await store.cursors(source)).toEqual([{ channel: 'ch', cursorMs: 3_000 }]);
  });

  it('refuses a cursor write from a run that never held the lease, or that released it', async () => {
    expect(await store.advanceCursor(source, 'never', 'run', 1_000)).toBe(false);
    await store.acquireLease(source, 'ch', 'run', NOW, NOW + 60_000);
    await store.releaseLease(source, 'ch', 'run');
    expect(await store.advanceCursor(source, 'ch', 'run', 1_000)).toBe(false);
    expect(await store.cursors(source)).toEqual([]);
  });

  it('lists the cursors of one source, leaving out channels that have none yet', async () => {
    for (const [channel, cursor] of [['a', 10], ['b', 20], ['c', undefined]] as const) {
      await store.acquireLease(source, channel, 'run', NOW, NOW + 60_000);
      if (cursor !== undefined) await store.advanceCursor(source, channel, 'run', cursor);
    }
    await store.acquireLease(`${source}-other`, 'z', 'run', NOW, NOW + 60_000);
    await store.advanceCursor(`${source}-other`, 'z', 'run', 99);
    const cursors = await store.cursors(source);
    expect(cursors.sort((x, y) => x.channel.localeCompare(y.channel))).toEqual([
      { channel: 'a', cursorMs: 10 },
      { channel: 'b', cursorMs: 20 },
    ]);
  });

  it('lists runs newest first, filtered by source, up to the limit, with every field as saved', async () => {
    const other = `${source}-other`;
    const saved: SyncRun[] = [];
    // Interleaved sources, saved out of order: the listing orders by startedAt.
    for (let index = 0; index < 12; index++) {
      const minute = String(index).padStart(2, '0');
      const run = syncRun(index % 3 === 0 ? source : other, `run-${minute}`, `2099-01-01T00:${minute}:00.000Z`, index === 9 ? { outcome: 'failed', errors: ['channel a: boom'] } : {});
      saved.push(run);
    }
    for (const run of [...saved].reverse()) await store.saveRun(run, 4_000_000_000);

    const mine = await store.listRuns({ source, limit: 10 });
    expect(mine.map((run) => run.runId)).toEqual(['run-09', 'run-06', 'run-03', 'run-00']);
    expect(mine[0]).toEqual(saved[9]);
    expect((await store.listRuns({ source, limit: 2 })).map((run) => run.runId)).toEqual(['run-09', 'run-06']);
    const newestAll = await store.listRuns({ limit: 3 });
    expect(newestAll.map((run) => run.runId)).toEqual(['run-11', 'run-10', 'run-09']);
  });
});

describe('DynamoDbSyncStateStore items', () => {
  it('keeps the cursor and lease on cursor#<source>/<channel>, and a run under runs/<startedAt>#<runId> with its expiry', async () => {
    const store = new DynamoDbSyncStateStore(documents, TABLE);
    const source = freshSource();
    await store.acquireLease(source, 'smartadmin-status', 'run-1', NOW, NOW + 60_000);
    await store.advanceCursor(source, 'smartadmin-status', 'run-1', 1_234);
    const cursor = await documents.send(new GetCommand({ TableName: TABLE, Key: { pk: `cursor#${source}`, sk: 'smartadmin-status' } }));
    expect(cursor.Item).toEqual({ pk: `cursor#${source}`, sk: 'smartadmin-status', cursorMs: 1_234, leaseOwner: 'run-1', leaseUntil: NOW + 60_000 });
    await store.releaseLease(source, 'smartadmin-status', 'run-1');
    const released = await documents.send(new GetCommand({ TableName: TABLE, Key: { pk: `cursor#${source}`, sk: 'smartadmin-status' } }));
    expect(released.Item).toEqual({ pk: `cursor#${source}`, sk: 'smartadmin-status', cursorMs: 1_234 });

    const run = syncRun(source, 'run-1', '2026-11-23T12:00:00.000Z');
    await store.saveRun(run, 1_800_000_000);
    const item = await documents.send(new GetCommand({ TableName: TABLE, Key: { pk: 'runs', sk: '2026-11-23T12:00:00.000Z#run-1' } }));
    expect(item.Item).toMatchObject({ source, expiresAt: 1_800_000_000 });
    expect(JSON.parse(String(item.Item?.run))).toEqual(run);
  });

  it('pages through a partition larger than one query page when filtering by a rare source', async () => {
    const store = new DynamoDbSyncStateStore(documents, TABLE);
    const rare = freshSource();
    const busy = freshSource();
    // 250 newer runs of another source lie between the rare source's two runs and the top of the partition.
    await store.saveRun(syncRun(rare, 'rare-old', '2098-01-01T00:00:00.000Z'), 4_000_000_000);
    await store.saveRun(syncRun(rare, 'rare-new', '2098-01-01T00:00:01.000Z'), 4_000_000_000);
    for (let index = 0; index < 250; index++) {
      await store.saveRun(syncRun(busy, `busy-${index}`, `2098-06-01T00:00:${String(index % 60).padStart(2, '0')}.${String(index).padStart(3, '0')}Z`), 4_000_000_000);
    }
    expect((await store.listRuns({ source: rare, limit: 5 })).map((run) => run.runId)).toEqual(['rare-new', 'rare-old']);
  });
});
