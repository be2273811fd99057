/**
 * The outbound ports' contracts, each suite run against the in-memory fake (test/fixtures/in-memory-outbound.ts)
 * and the DynamoDB adapter on dynalite, so the fake the core's tests rely on cannot drift from the adapter. Every
 * store gets fresh tables, so listings see only their own test's items. Adapter-only cases follow the contracts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createTableInput, LocalDynamoDb } from '../../../lib/local/local-dynamodb';
import {
  ATTEMPTS_TABLE,
  AUDIT_TABLE,
  DELIVERIES_TABLE,
  ENDPOINTS_TABLE,
  EVENT_TYPES_TABLE,
  IDEMPOTENCY_TABLE,
  MESSAGES_TABLE,
  type TableDefinition,
} from '../../../lambdas/adapters/dynamodb/table-definitions';
import { DynamoDbEndpointStore } from '../../../lambdas/adapters/dynamodb/endpoint-store';
import { DynamoDbMessageStore } from '../../../lambdas/adapters/dynamodb/message-store';
import { DynamoDbIdempotencyStore } from '../../../lambdas/adapters/dynamodb/idempotency-store';
import { DynamoDbDeliveryLog, messageIdFloor } from '../../../lambdas/adapters/dynamodb/delivery-log';
import { DynamoDbRateLimiter } from '../../../lambdas/adapters/dynamodb/rate-limiter';
import { DynamoDbAuditLog } from '../../../lambdas/adapters/dynamodb/audit-log';
import { DynamoDbEventTypeCatalog } from '../../../lambdas/adapters/dynamodb/event-type-catalog';
import type { Attempt, AuditRecord, Delivery, DeliveryStatus, Endpoint, OutboundMessage } from '../../../lambdas/core/outbound/outbound-model';
import type { AuditLog, DeliveryLog, EndpointStore, EventTypeCatalog, IdempotencyStore, MessageStore, Page, RateLimiter } from '../../../lambdas/core/outbound/outbound-ports';
import { BadRequestError, ConflictError } from '../../../lambdas/core/errors';
import {
  InMemoryAuditLog,
  InMemoryDeliveryLog,
  InMemoryEndpointStore,
  InMemoryEventTypeCatalog,
  InMemoryIdempotencyStore,
  InMemoryMessageStore,
  InMemoryRateLimiter,
} from '../../fixtures/in-memory-outbound';

const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-outbound-'));
const dynamodb = new LocalDynamoDb(dataDir);
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let tables = 0;

/**
 * A new, empty table of this definition. createTableInput sends `GlobalSecondaryIndexes: []` for a table without
 * indexes, which DynamoDB and dynalite refuse ("List of GlobalSecondaryIndexes is empty"); left out here until
 * local-dynamodb.ts leaves it out itself.
 */
async function freshTable(definition: TableDefinition): Promise<string> {
  const tableName = `${definition.logicalName.toLowerCase()}-${++tables}`;
  const input = createTableInput(definition, tableName);
  if (input.GlobalSecondaryIndexes?.length === 0) delete input.GlobalSecondaryIndexes;
  await client.send(new CreateTableCommand(input));
  // dynalite answers CreateTable before the table takes writes (CREATING for a tick, even at createTableMs 0).
  while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== 'ACTIVE') await new Promise((resolve) => setTimeout(resolve, 5));
  return tableName;
}

beforeAll(async () => {
  await dynamodb.start();
  client = dynamodb.client();
  documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  documents.destroy();
  await dynamodb.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => jest.restoreAllMocks());

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A time-ordered id as the core makes them: prefix, 10 characters of time, 16 of (here counted) randomness. */
function timeId(prefix: string, ms: number, n: number): string {
  return `${prefix}${messageIdFloor(ms).slice('msg_'.length, 'msg_'.length + 10)}${String(n).padStart(16, '0')}`;
}

function endpoint(n: number, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    id: timeId('ep_', NOW + n, n),
    url: `https://example.com/hooks/${n}`,
    description: `endpoint ${n}`,
    eventTypes: ['project.*'],
    sources: [],
    headers: { 'x-team': 'a' },
    failureThreshold: 5,
    disabled: false,
    secrets: [{ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', createdAt: '2026-11-23T12:00:00.000Z' }],
    createdAt: '2026-11-23T12:00:00.000Z',
    updatedAt: '2026-11-23T12:00:00.000Z',
    consecutiveFailures: 0,
    ...overrides,
  };
}

function message(n: number): OutboundMessage {
  return { id: timeId('msg_', NOW + n * 1000, n), eventType: 'project.created', source: 'app', payload: `{"n":${n}}`, createdAt: new Date(NOW + n * 1000).toISOString(), expiresAt: 2_000_000_000 };
}

function delivery(endpointId: string, messageId: string, status: DeliveryStatus, overrides: Partial<Delivery> = {}): Delivery {
  return { endpointId, messageId, eventType: 'project.created', status, attempts: 1, lastAttemptAt: '2026-11-23T12:00:00.000Z', updatedAt: '2026-11-23T12:00:00.000Z', expiresAt: 2_000_000_000, ...overrides };
}

function attempt(endpointId: string, n: number, status: Attempt['status'] = 'failed', overrides: Partial<Attempt> = {}): Attempt {
  return {
    id: timeId('atm_', NOW + n * 10, n),
    endpointId,
    messageId: timeId('msg_', NOW, n),
    eventType: 'project.created',
    attemptNumber: 1,
    status,
    trigger: 'scheduled',
    url: 'https://example.com/hooks',
    requestHeaders: { 'webhook-id': 'msg_x' },
    ...(status === 'succeeded' ? { responseStatus: 200, responseBody: 'ok' } : { error: 'HTTP 500', responseStatus: 500 }),
    durationMs: 12,
    attemptedAt: new Date(NOW + n * 10).toISOString(),
    expiresAt: 2_000_000_000,
    ...overrides,
  };
}

/** Every item of a listing, following its cursors (bounded, so a cursor that never ends fails the test). */
async function allPages<T>(list: (cursor?: string) => Promise<Page<T>>): Promise<{ items: T[]; pages: T[][] }> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push(page.items);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 100);
  expect(cursor).toBeUndefined();
  return { items: pages.flat(), pages };
}

/** Cursors no store made: not base64url, not JSON, JSON of the wrong shape, a field of the wrong type. */
const FORGED_CURSORS = ['not a cursor!', Buffer.from('{"after":').toString('base64url'), Buffer.from('[1,2]').toString('base64url'), Buffer.from('{"after":5,"before":5}').toString('base64url')];

const ids = <T extends { id: string }>(items: readonly T[]) => items.map((item) => item.id);

describe.each<[string, () => Promise<EndpointStore>]>([
  ['InMemoryEndpointStore', async () => new InMemoryEndpointStore()],
  ['DynamoDbEndpointStore', async () => new DynamoDbEndpointStore(documents, await freshTable(ENDPOINTS_TABLE))],
])('EndpointStore contract: %s', (_name, make) => {
  it('creates once, gets, deletes', async () => {
    const store = await make();
    const first = endpoint(1, { rateLimitPerSecond: 10, retrySchedule: [5, 60] });
    await store.create(first);
    await expect(store.create({ ...first, url: 'https://other.example' })).rejects.toThrow(/exists/);
    expect(await store.get(first.id)).toEqual(first);
    expect(await store.get('ep_missing')).toBeUndefined();
    expect(await store.delete(first.id)).toBe(true);
    expect(await store.delete(first.id)).toBe(false);
    expect(await store.get(first.id)).toBeUndefined();
  });

  it('lists every endpoint once over pages, each page oldest first; a forged cursor is a 400', async () => {
    const store = await make();
    const created = Array.from({ length: 7 }, (_, n) => endpoint(n));
    for (const each of [...created].reverse()) await store.create(each);
    const { items, pages } = await allPages((cursor) => store.list({ limit: 3, cursor }));
    expect(ids(items).sort()).toEqual(ids(created));
    for (const page of pages) expect(ids(page)).toEqual([...ids(page)].sort());
    expect(pages[0]).toHaveLength(3);
    expect((await store.list({ limit: 10 })).cursor).toBeUndefined();
    for (const forged of FORGED_CURSORS) await expect(store.list({ limit: 3, cursor: forged })).rejects.toThrow(BadRequestError);
  });

  it('updates settings: undefined removes an optional one, unknown keys and health are left alone', async () => {
    const store = await make();
    const original = endpoint(1, { rateLimitPerSecond: 10, retrySchedule: [5], consecutiveFailures: 2, failingSince: '2026-11-23T11:00:00.000Z' });
    await store.create(original);
    const changes = { url: 'https://example.com/new', eventTypes: [], rateLimitPerSecond: undefined, consecutiveFailures: 0, id: 'ep_other' } as never;
    const updated = await store.update(original.id, changes, '2026-11-23T13:00:00.000Z');
    const { rateLimitPerSecond: _removed, ...rest } = original;
    expect(updated).toEqual({ ...rest, url: 'https://example.com/new', eventTypes: [], updatedAt: '2026-11-23T13:00:00.000Z' });
    expect(await store.get(original.id)).toEqual(updated);
    expect(await store.update('ep_missing', { url: 'https://x.example' }, '2026-11-23T13:00:00.000Z')).toBeUndefined();
    expect(await store.get('ep_missing')).toBeUndefined();
  });

  it('enabling a disabled endpoint clears its failure run; disabled:false on an enabled one keeps it', async () => {
    const store = await make();
    const failing = endpoint(1);
    await store.create(failing);
    await store.recordFailures(failing.id, 3, '2026-11-23T12:01:00.000Z');
    expect(await store.update(failing.id, { disabled: false, description: 'still on' }, '2026-11-23T12:02:00.000Z')).toMatchObject({
      consecutiveFailures: 3,
      failingSince: '2026-11-23T12:01:00.000Z',
      description: 'still on',
    });
    expect(await store.disable(failing.id, 'failures', '2026-11-23T12:03:00.000Z')).toBe(true);
    const enabled = await store.update(failing.id, { disabled: false }, '2026-11-23T12:04:00.000Z');
    expect(enabled).toMatchObject({ disabled: false, consecutiveFailures: 0, updatedAt: '2026-11-23T12:04:00.000Z', lastFailureAt: '2026-11-23T12:01:00.000Z' });
    expect(enabled).not.toHaveProperty('failingSince');
    expect(enabled).not.toHaveProperty('disabledReason');
    expect(enabled).not.toHaveProperty('disabledAt');
    expect(await store.update('ep_missing', { disabled: false }, '2026-11-23T12:04:00.000Z')).toBeUndefined();
  });

  it('keeps health: failures add up from the first failure, a success reports the run it ended', async () => {
    const store = await make();
    const target = endpoint(1);
    await store.create(target);
    expect(await store.recordFailures(target.id, 2, '2026-11-23T12:01:00.000Z')).toMatchObject({ consecutiveFailures: 2, failingSince: '2026-11-23T12:01:00.000Z', lastFailureAt: '2026-11-23T12:01:00.000Z' });
    expect(await store.recordFailures(target.id, 3, '2026-11-23T12:02:00.000Z')).toMatchObject({ consecutiveFailures: 5, failingSince: '2026-11-23T12:01:00.000Z', lastFailureAt: '2026-11-23T12:02:00.000Z' });
    expect(await store.recordSuccess(target.id, '2026-11-23T12:03:00.000Z')).toEqual({ previousConsecutiveFailures: 5 });
    expect(await store.recordSuccess(target.id, '2026-11-23T12:04:00.000Z')).toEqual({ previousConsecutiveFailures: 0 });
    const healthy = await store.get(target.id);
    expect(healthy).toMatchObject({ consecutiveFailures: 0, lastSuccessAt: '2026-11-23T12:04:00.000Z' });
    expect(healthy).not.toHaveProperty('failingSince');
    expect(await store.recordSuccess('ep_missing', '2026-11-23T12:04:00.000Z')).toBeUndefined();
    expect(await store.recordFailures('ep_missing', 1, '2026-11-23T12:04:00.000Z')).toBeUndefined();
    expect(await store.get('ep_missing')).toBeUndefined();
  });

  it('disables once: of concurrent callers exactly one wins; a missing endpoint is not created', async () => {
    const store = await make();
    const target = endpoint(1);
    await store.create(target);
    const outcomes = await Promise.all(['gone', 'failures', 'failures', 'manual', 'failing-5-days'].map((reason) => store.disable(target.id, reason, '2026-11-23T12:05:00.000Z')));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(await store.get(target.id)).toMatchObject({ disabled: true, disabledAt: '2026-11-23T12:05:00.000Z', disabledReason: expect.any(String) });
    expect(await store.disable('ep_missing', 'manual', '2026-11-23T12:05:00.000Z')).toBe(false);
    expect(await store.get('ep_missing')).toBeUndefined();
  });

  it('replaces the secrets only while the current one is the expected one', async () => {
    const store = await make();
    const target = endpoint(1);
    await store.create(target);
    const current = target.secrets[0]!.secret;
    const secrets = [
      { secret: 'whsec_bmV3', createdAt: '2026-11-23T12:06:00.000Z' },
      { secret: current, createdAt: target.secrets[0]!.createdAt, expiresAt: '2026-11-24T12:06:00.000Z' },
    ];
    expect(await store.setSecrets(target.id, secrets, '2026-11-23T12:06:00.000Z', current)).toMatchObject({ secrets, updatedAt: '2026-11-23T12:06:00.000Z' });
    // A second rotation that read the old current secret loses, instead of dropping the one just handed out.
    await expect(store.setSecrets(target.id, [{ secret: 'whsec_b3RoZXI=', createdAt: '2026-11-23T12:06:01.000Z' }], '2026-11-23T12:06:01.000Z', current)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.get(target.id))!.secrets[0]!.secret).toBe('whsec_bmV3');
    expect(await store.setSecrets('ep_missing', secrets, '2026-11-23T12:06:00.000Z', current)).toBeUndefined();
  });
});

describe.each<[string, () => Promise<MessageStore>]>([
  ['InMemoryMessageStore', async () => new InMemoryMessageStore()],
  ['DynamoDbMessageStore', async () => new DynamoDbMessageStore(documents, await freshTable(MESSAGES_TABLE))],
])('MessageStore contract: %s', (_name, make) => {
  it('puts (a second put of an id replaces it) and gets', async () => {
    const store = await make();
    const first = { ...message(1), idempotencyKey: 'k1' };
    await store.put(first);
    await store.put(first);
    expect(await store.get(first.id)).toEqual(first);
    expect(await store.get('msg_missing')).toBeUndefined();
  });

  it('gets many, past one request: those that exist, each once', async () => {
    const store = await make();
    const stored = Array.from({ length: 130 }, (_, n) => message(n));
    await Promise.all(stored.map((each) => store.put(each)));
    const asked = [...ids(stored), 'msg_missing', stored[0]!.id];
    const found = await store.getMany(asked);
    expect(ids(found).sort()).toEqual(ids(stored).sort());
    expect(await store.getMany([])).toEqual([]);
  });
});

describe.each<[string, () => Promise<IdempotencyStore>]>([
  ['InMemoryIdempotencyStore', async () => new InMemoryIdempotencyStore()],
  ['DynamoDbIdempotencyStore', async () => new DynamoDbIdempotencyStore(documents, await freshTable(IDEMPOTENCY_TABLE))],
])('IdempotencyStore contract: %s', (_name, make) => {
  const at = '2026-11-23T12:00:00.000Z';
  const expiresAt = Math.floor(NOW / 1000) + 86_400;

  it('claims a key once; a repeat learns the message and its state', async () => {
    const store = await make();
    expect(await store.begin('key-1', 'msg_A', at, expiresAt)).toEqual({ started: true });
    expect(await store.begin('key-1', 'msg_B', '2026-11-23T12:00:01.000Z', expiresAt + 1)).toEqual({ started: false, messageId: 'msg_A', state: 'pending', startedAt: at });
    await store.complete('key-1');
    expect(await store.begin('key-1', 'msg_C', '2026-11-23T12:00:02.000Z', expiresAt + 2)).toEqual({ started: false, messageId: 'msg_A', state: 'done', startedAt: at });
  });

  it('lets exactly one of concurrent claims win', async () => {
    const store = await make();
    const outcomes = await Promise.all(['msg_A', 'msg_B', 'msg_C', 'msg_D'].map((messageId) => store.begin('key-race', messageId, at, expiresAt)));
    expect(outcomes.filter((outcome) => outcome.started)).toHaveLength(1);
    const winners = new Set(outcomes.flatMap((outcome) => (outcome.started ? [] : [outcome.messageId])));
    expect(winners.size).toBe(1);
  });

  it('treats a key past its expiry as absent (TTL deletes late), and completing an unknown key creates nothing', async () => {
    const store = await make();
    await store.begin('key-old', 'msg_A', at, Math.floor(NOW / 1000) + 10);
    await store.complete('key-old');
    expect(await store.begin('key-old', 'msg_B', '2026-11-23T12:00:10.000Z', expiresAt)).toEqual({ started: true });
    expect(await store.begin('key-old', 'msg_C', '2026-11-23T12:00:11.000Z', expiresAt)).toMatchObject({ started: false, messageId: 'msg_B', state: 'pending' });
    await store.complete('key-never');
    expect(await store.begin('key-never', 'msg_D', at, expiresAt)).toEqual({ started: true });
  });

  it('lets exactly one of concurrent takeovers of a pending claim win, and none of a completed one', async () => {
    const store = await make();
    await store.begin('key-stale', 'msg_A', at, expiresAt);
    const later = ['2026-11-23T12:01:00.000Z', '2026-11-23T12:01:00.001Z', '2026-11-23T12:01:00.002Z'];
    const won = await Promise.all(later.map((startedAt) => store.takeOver('key-stale', at, startedAt)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await store.takeOver('key-stale', at, '2026-11-23T12:02:00.000Z')).toBe(false); // no longer the expected claim
    await store.complete('key-stale');
    const current = await store.begin('key-stale', 'msg_X', '2026-11-23T12:03:00.000Z', expiresAt);
    expect(current).toMatchObject({ started: false, messageId: 'msg_A', state: 'done' });
    expect(await store.takeOver('key-stale', (current as { startedAt: string }).startedAt, '2026-11-23T12:04:00.000Z')).toBe(false);
  });
});

describe.each<[string, () => Promise<DeliveryLog>]>([
  ['InMemoryDeliveryLog', async () => new InMemoryDeliveryLog()],
  ['DynamoDbDeliveryLog', async () => new DynamoDbDeliveryLog(documents, { deliveriesTable: await freshTable(DELIVERIES_TABLE), attemptsTable: await freshTable(ATTEMPTS_TABLE) })],
])('DeliveryLog contract: %s', (_name, make) => {
  const ep = timeId('ep_', NOW, 1);

  it('records deliveries and attempts together, past one batch; a later record replaces a delivery', async () => {
    const log = await make();
    const messages = Array.from({ length: 30 }, (_, n) => message(n));
    const attempts = messages.map((_, n) => attempt(ep, n));
    await log.record({ deliveries: messages.map((each) => delivery(ep, each.id, 'pending')), attempts });
    const last = messages[29]!.id;
    expect(await log.getDelivery(ep, last)).toEqual(delivery(ep, last, 'pending'));
    const done = delivery(ep, last, 'succeeded', { attempts: 2, lastResponseStatus: 200 });
    await log.record({ deliveries: [done], attempts: [] });
    expect(await log.getDelivery(ep, last)).toEqual(done);
    expect(await log.getDelivery(ep, 'msg_missing')).toBeUndefined();
    expect(await log.getAttempt(attempts[7]!.id)).toEqual(attempts[7]);
    expect(await log.getAttempt('atm_missing')).toBeUndefined();
    // The same key twice in one record: the last state is kept.
    await log.record({ deliveries: [delivery(ep, last, 'pending'), delivery(ep, last, 'exhausted')], attempts: [attempts[0]!, attempts[0]!] });
    expect(await log.getDelivery(ep, last)).toMatchObject({ status: 'exhausted' });
  });

  it('lists one endpoint\'s deliveries oldest message first, over pages and since a time', async () => {
    const log = await make();
    const messages = Array.from({ length: 9 }, (_, n) => message(n));
    const other = timeId('ep_', NOW, 2);
    await log.record({ deliveries: [...messages.map((each) => delivery(ep, each.id, 'succeeded')), delivery(other, messages[0]!.id, 'pending')], attempts: [] });
    const { items, pages } = await allPages((cursor) => log.listDeliveries(ep, { limit: 4, cursor }));
    expect(items.map((each) => each.messageId)).toEqual(ids(messages));
    expect(pages.map((page) => page.length)).toEqual([4, 4, 1]);
    // Message n was made at NOW + n s: since NOW + 5 s lists 5..8.
    const since = new Date(NOW + 5000).toISOString();
    const recent = await allPages((cursor) => log.listDeliveries(ep, { limit: 3, cursor, since }));
    expect(recent.items.map((each) => each.messageId)).toEqual(ids(messages.slice(5)));
    await expect(log.listDeliveries(ep, { limit: 3, since: 'yesterday' })).rejects.toThrow(BadRequestError);
    for (const forged of FORGED_CURSORS) await expect(log.listDeliveries(ep, { limit: 3, cursor: forged })).rejects.toThrow(BadRequestError);
  });

  it('lists the deliveries a retry can send: exhausted, skipped and failed, as their status changes', async () => {
    const log = await make();
    const messages = Array.from({ length: 6 }, (_, n) => message(n));
    const statuses: DeliveryStatus[] = ['pending', 'exhausted', 'succeeded', 'skipped', 'failed', 'exhausted'];
    await log.record({ deliveries: messages.map((each, n) => delivery(ep, each.id, statuses[n]!)), attempts: [] });
    const retryable = await allPages((cursor) => log.listRetryable(ep, { limit: 2, cursor }));
    expect(retryable.items.map((each) => each.messageId)).toEqual([1, 3, 4, 5].map((n) => messages[n]!.id));
    expect(retryable.items[0]).toEqual(delivery(ep, messages[1]!.id, 'exhausted'));
    // Retried: pending again, then succeeded; a failure elsewhere makes another retryable.
    await log.record({ deliveries: [delivery(ep, messages[1]!.id, 'pending'), delivery(ep, messages[0]!.id, 'exhausted')], attempts: [] });
    await log.record({ deliveries: [delivery(ep, messages[5]!.id, 'succeeded')], attempts: [] });
    const after = await allPages((cursor) => log.listRetryable(ep, { limit: 10, cursor }));
    expect(after.items.map((each) => each.messageId)).toEqual([0, 3, 4].map((n) => messages[n]!.id));
    expect((await log.listRetryable(timeId('ep_', NOW, 3), { limit: 10 })).items).toEqual([]);
  });

  it('lists attempts newest first, optionally by status, over pages; finds one by id', async () => {
    const log = await make();
    const attempts = Array.from({ length: 11 }, (_, n) => attempt(ep, n, n % 3 === 0 ? 'succeeded' : 'failed'));
    await log.record({ deliveries: [], attempts: [...attempts, attempt(timeId('ep_', NOW, 2), 99)] });
    await log.addHourStats(ep, { hour: '2026-11-23T12', succeeded: 1, failed: 0, durationBuckets: {} }, 2_000_000_000);
    const newestFirst = [...attempts].reverse();
    const all = await allPages((cursor) => log.listAttempts(ep, { limit: 4, cursor }));
    expect(ids(all.items)).toEqual(ids(newestFirst));
    expect(all.items[0]).toEqual(newestFirst[0]);
    const failed = await allPages((cursor) => log.listAttempts(ep, { limit: 3, cursor, status: 'failed' }));
    expect(ids(failed.items)).toEqual(ids(newestFirst.filter((each) => each.status === 'failed')));
    const succeeded = await allPages((cursor) => log.listAttempts(ep, { limit: 10, cursor, status: 'succeeded' }));
    expect(ids(succeeded.items)).toEqual(ids(newestFirst.filter((each) => each.status === 'succeeded')));
    for (const forged of [...FORGED_CURSORS, Buffer.from('{"before":"hour#x"}').toString('base64url')]) {
      await expect(log.listAttempts(ep, { limit: 3, cursor: forged })).rejects.toThrow(BadRequestError);
    }
  });

  it('adds up hourly stats and reads them from an hour on', async () => {
    const log = await make();
    await log.addHourStats(ep, { hour: '2026-11-23T10', succeeded: 3, failed: 1, durationBuckets: { 0: 2, 4: 2 } }, 2_000_000_000);
    await log.addHourStats(ep, { hour: '2026-11-23T11', succeeded: 1, failed: 0, durationBuckets: { 1: 1 } }, 2_000_000_000);
    await log.addHourStats(ep, { hour: '2026-11-23T11', succeeded: 2, failed: 2, durationBuckets: { 1: 1, 7: 3, 2: 0 } }, 2_000_000_000);
    await log.addHourStats(timeId('ep_', NOW, 2), { hour: '2026-11-23T11', succeeded: 9, failed: 9, durationBuckets: {} }, 2_000_000_000);
    await log.record({ deliveries: [], attempts: [attempt(ep, 1)] });
    expect(await log.hourStats(ep, '2026-11-23T11')).toEqual([{ hour: '2026-11-23T11', succeeded: 3, failed: 2, durationBuckets: { 1: 2, 7: 3 } }]);
    expect((await log.hourStats(ep, '2026-11-22T00')).map((each) => each.hour)).toEqual(['2026-11-23T10', '2026-11-23T11']);
    expect(await log.hourStats(ep, '2026-11-24T00')).toEqual([]);
  });
});

describe.each<[string, () => Promise<RateLimiter>]>([
  ['InMemoryRateLimiter', async () => new InMemoryRateLimiter()],
  ['DynamoDbRateLimiter', async () => new DynamoDbRateLimiter(documents, await freshTable(ATTEMPTS_TABLE))],
])('RateLimiter contract: %s', (_name, make) => {
  it('grants up to the limit per second and endpoint, then what is left, then nothing; a new second starts afresh', async () => {
    const limiter = await make();
    expect(await limiter.take('ep_A', 4, 10, NOW)).toBe(4);
    expect(await limiter.take('ep_A', 5, 10, NOW + 100)).toBe(5);
    expect(await limiter.take('ep_A', 5, 10, NOW + 900)).toBe(1);
    expect(await limiter.take('ep_A', 1, 10, NOW + 999)).toBe(0);
    expect(await limiter.take('ep_B', 3, 10, NOW)).toBe(3);
    expect(await limiter.take('ep_A', 25, 10, NOW + 1000)).toBe(10);
    expect(await limiter.take('ep_A', 0, 10, NOW + 2000)).toBe(0);
  });

  it('never grants more than the limit per second to concurrent callers', async () => {
    const limiter = await make();
    const wanted = Array.from({ length: 40 }, (_, n) => 1 + (n % 4));
    const granted = await Promise.all(wanted.map((count) => limiter.take('ep_C', count, 25, NOW)));
    granted.forEach((count, n) => expect(count).toBeLessThanOrEqual(wanted[n]!));
    const total = granted.reduce((sum, count) => sum + count, 0);
    expect(total).toBeLessThanOrEqual(25);
    expect(total).toBeGreaterThan(0);
  });
});

describe.each<[string, (options: { maxDays?: number; now?: () => Date }) => Promise<AuditLog>]>([
  ['InMemoryAuditLog', async (options) => new InMemoryAuditLog(options)],
  ['DynamoDbAuditLog', async (options) => new DynamoDbAuditLog(documents, await freshTable(AUDIT_TABLE), options)],
])('AuditLog contract: %s', (_name, make) => {
  const now = () => new Date(NOW);
  const record = (n: number, at: string): AuditRecord => ({ id: timeId('aud_', Date.parse(at), n), at, actor: 'key-1a2b', action: 'endpoint.update', target: `endpoint:ep_${n}`, details: { changed: ['url'] }, expiresAt: 2_000_000_000 });

  it('lists newest first across days, over pages, within the retention; a forged cursor is a 400', async () => {
    const log = await make({ maxDays: 30, now });
    const records = [
      record(1, '2026-09-01T10:00:00.000Z'), // past the retention
      record(2, '2026-11-01T10:00:00.000Z'),
      record(3, '2026-11-20T09:00:00.000Z'),
      record(4, '2026-11-20T10:00:00.000Z'),
      record(5, '2026-11-20T11:00:00.000Z'),
      record(6, '2026-11-23T08:00:00.000Z'),
      record(7, '2026-11-23T11:00:00.000Z'),
    ];
    for (const each of records) await log.append(each);
    const expected = records.slice(1).reverse();
    for (const limit of [1, 2, 4, 10]) {
      const { items } = await allPages((cursor) => log.list({ limit, cursor }));
      expect(items).toEqual(expected);
    }
    const first = await log.list({ limit: 2 });
    expect(first.items).toEqual(expected.slice(0, 2));
    expect(first.cursor).toBeDefined();
    for (const forged of FORGED_CURSORS) await expect(log.list({ limit: 2, cursor: forged })).rejects.toThrow(BadRequestError);
  });

  it('lists nothing from an empty log', async () => {
    const log = await make({ now });
    expect(await allPages((cursor) => log.list({ limit: 10, cursor }))).toMatchObject({ items: [] });
  });
});

describe.each<[string, () => Promise<EventTypeCatalog>]>([
  ['InMemoryEventTypeCatalog', async () => new InMemoryEventTypeCatalog()],
  ['DynamoDbEventTypeCatalog', async () => new DynamoDbEventTypeCatalog(documents, await freshTable(EVENT_TYPES_TABLE))],
])('EventTypeCatalog contract: %s', (_name, make) => {
  it('keeps the first sighting of a type and moves the last', async () => {
    const catalog = await make();
    expect(await catalog.listSeen()).toEqual([]);
    await catalog.recordSeen([{ name: 'project.created', source: 'app' }, { name: 'ably.message', source: 'ably' }], '2026-11-23T10:00:00.000Z');
    await catalog.recordSeen([{ name: 'project.created', source: 'app' }, { name: 'project.created', source: 'github' }], '2026-11-23T11:00:00.000Z');
    expect(await catalog.listSeen()).toEqual([
      { name: 'ably.message', declared: false, firstSeenAt: '2026-11-23T10:00:00.000Z', lastSeenAt: '2026-11-23T10:00:00.000Z' },
      { name: 'project.created', declared: false, firstSeenAt: '2026-11-23T10:00:00.000Z', lastSeenAt: '2026-11-23T11:00:00.000Z' },
    ]);
  });
});

describe('messageIdFloor', () => {
  it('is msg_, the time in 10 Crockford base32 characters, and 16 zeros', () => {
    const ms = Date.parse('2026-11-23T12:34:56.789Z');
    // An independent encoding: JavaScript's base 32 digits (0-9a-v) mapped onto Crockford's alphabet.
    const expected = [...ms.toString(32).padStart(10, '0')].map((digit) => CROCKFORD[parseInt(digit, 32)]).join('');
    expect(messageIdFloor(ms)).toBe(`msg_${expected}${'0'.repeat(16)}`);
    expect(messageIdFloor(0)).toBe(`msg_${'0'.repeat(26)}`);
    expect(messageIdFloor(ms) < messageIdFloor(ms + 1)).toBe(true);
    expect(messageIdFloor(ms) <= timeId('msg_', ms, 0) && timeId('msg_', ms - 1, 99) < messageIdFloor(ms)).toBe(true);
  });
});

describe('DynamoDB adapters beyond the contracts', () => {
  it('writes deliveries and attempts in one BatchWriteItem per 25 items, spanning both tables', async () => {
    const tablesUsed = { deliveriesTable: await freshTable(DELIVERIES_TABLE), attemptsTable: await freshTable(ATTEMPTS_TABLE) };
    const log = new DynamoDbDeliveryLog(documents, tablesUsed);
    const ep = timeId('ep_', NOW, 1);
    const messages = Array.from({ length: 30 }, (_, n) => message(n));
    const send = jest.spyOn(documents, 'send');
    await log.record({ deliveries: messages.map((each) => delivery(ep, each.id, 'exhausted')), attempts: messages.map((_, n) => attempt(ep, n)) });
    const batches = send.mock.calls.map(([command]) => command as unknown).filter((command): command is BatchWriteCommand => command instanceof BatchWriteCommand);
    expect(batches.map((command) => Object.values(command.input.RequestItems!).reduce((sum, requests) => sum + requests.length, 0))).toEqual([25, 25, 10]);
    expect(Object.keys(batches[1]!.input.RequestItems!).sort()).toEqual([tablesUsed.attemptsTable, tablesUsed.deliveriesTable].sort());
    send.mockRestore();

    // The sparse index attributes: retryableEndpointId on retryable deliveries only, attemptId on attempts.
    await log.record({ deliveries: [delivery(ep, messages[0]!.id, 'succeeded')], attempts: [] });
    const retryable = await documents.send(new GetCommand({ TableName: tablesUsed.deliveriesTable, Key: { endpointId: ep, messageId: messages[1]!.id } }));
    const succeeded = await documents.send(new GetCommand({ TableName: tablesUsed.deliveriesTable, Key: { endpointId: ep, messageId: messages[0]!.id } }));
    expect(retryable.Item).toMatchObject({ retryableEndpointId: ep });
    expect(succeeded.Item).not.toHaveProperty('retryableEndpointId');
    const stored = await documents.send(new GetCommand({ TableName: tablesUsed.attemptsTable, Key: { endpointId: ep, entry: attempt(ep, 0).id } }));
    expect(stored.Item).toMatchObject({ attemptId: attempt(ep, 0).id });
  });

  it('sends again what BatchWriteItem left unprocessed, and gives up after a bounded number of requests', async () => {
    const tablesUsed = { deliveriesTable: await freshTable(DELIVERIES_TABLE), attemptsTable: await freshTable(ATTEMPTS_TABLE) };
    const log = new DynamoDbDeliveryLog(documents, tablesUsed);
    const ep = timeId('ep_', NOW, 1);
    const throttled = delivery(ep, message(1).id, 'pending');
    const send = documents.send.bind(documents);
    let calls = 0;
    jest.spyOn(documents, 'send').mockImplementation((async (command: unknown) => {
      if (command instanceof BatchWriteCommand && calls++ === 0) {
        // DynamoDB wrote the attempt and throttled the delivery.
        await send(new BatchWriteCommand({ RequestItems: { [tablesUsed.attemptsTable]: command.input.RequestItems![tablesUsed.attemptsTable]! } }));
        return { UnprocessedItems: { [tablesUsed.deliveriesTable]: command.input.RequestItems![tablesUsed.deliveriesTable] } };
      }
      return send(command as never);
    }) as never);
    await log.record({ deliveries: [throttled], attempts: [attempt(ep, 1)] });
    expect(calls).toBe(2);
    expect(await log.getDelivery(ep, throttled.messageId)).toEqual(throttled);
    expect(await log.getAttempt(attempt(ep, 1).id)).toEqual(attempt(ep, 1));

    jest.spyOn(documents, 'send').mockImplementation((async (command: BatchWriteCommand) => ({ UnprocessedItems: command.input.RequestItems })) as never);
    await expect(log.record({ deliveries: [throttled], attempts: [] })).rejects.toThrow(/unprocessed/);
  });

  it('pages a sparse attempt filter with a bounded number of queries, a short page carrying the cursor on', async () => {
    const log = new DynamoDbDeliveryLog(documents, { deliveriesTable: await freshTable(DELIVERIES_TABLE), attemptsTable: await freshTable(ATTEMPTS_TABLE) });
    const ep = timeId('ep_', NOW, 1);
    const old = [attempt(ep, 1, 'succeeded'), attempt(ep, 2, 'succeeded')];
    const recentFailures = Array.from({ length: 450 }, (_, n) => attempt(ep, 10 + n, 'failed'));
    await log.record({ deliveries: [], attempts: [...old, ...recentFailures] });
    const first = await log.listAttempts(ep, { limit: 10, status: 'succeeded' });
    expect(first.items).toEqual([]);
    expect(first.cursor).toBeDefined();
    const { items } = await allPages((cursor) => log.listAttempts(ep, { limit: 10, status: 'succeeded', cursor }));
    expect(ids(items)).toEqual(ids([...old].reverse()));
  });

  it('takes a cursor naming an id that is not stored (a position, not a start key)', async () => {
    const store = new DynamoDbEndpointStore(documents, await freshTable(ENDPOINTS_TABLE));
    for (let n = 0; n < 5; n++) await store.create(endpoint(n));
    const foreign = Buffer.from(JSON.stringify({ after: timeId('ep_', NOW, 999) })).toString('base64url');
    const page = await store.list({ limit: 10, cursor: foreign });
    expect(page.items.length).toBeLessThanOrEqual(5);
  });

  it('keeps the per-second limit across separate limiter instances (separate workers) sharing the table', async () => {
    const tableName = await freshTable(ATTEMPTS_TABLE);
    const workers = Array.from({ length: 4 }, () => new DynamoDbRateLimiter(DynamoDBDocumentClient.from(dynamodb.client()), tableName));
    for (const second of [0, 1, 2]) {
      const granted = await Promise.all(Array.from({ length: 60 }, (_, n) => workers[n % 4]!.take('ep_hot', 1 + (n % 5), 30, NOW + second * 1000 + n)));
      expect(granted.reduce((sum, count) => sum + count, 0)).toBeLessThanOrEqual(30);
    }
    const window = await documents.send(new GetCommand({ TableName: tableName, Key: { endpointId: 'ep_hot', entry: `rate#${Math.floor(NOW / 1000)}` } }));
    expect(window.Item!.used).toBeLessThanOrEqual(30);
    expect(window.Item!.expiresAt).toBe(Math.floor(NOW / 1000) + 60);
  });

  it('answers a losing idempotency claim from the refused write when DynamoDB returns the item', async () => {
    const store = new DynamoDbIdempotencyStore(documents, await freshTable(IDEMPOTENCY_TABLE));
    await store.begin('key-1', 'msg_A', '2026-11-23T12:00:00.000Z', Math.floor(NOW / 1000) + 60);
    // dynalite ignores ReturnValuesOnConditionCheckFailure; DynamoDB puts the old item (wire form) on the exception.
    const send = documents.send.bind(documents);
    const reads: unknown[] = [];
    jest.spyOn(documents, 'send').mockImplementation((async (command: unknown) => {
      if (command instanceof GetCommand) reads.push(command);
      try {
        return await send(command as never);
      } catch (error) {
        Object.assign(error as object, { Item: { key: { S: 'key-1' }, messageId: { S: 'msg_A' }, state: { S: 'done' }, startedAt: { S: '2026-11-23T12:00:00.000Z' } } });
        throw error;
      }
    }) as never);
    expect(await store.begin('key-1', 'msg_B', '2026-11-23T12:00:01.000Z', Math.floor(NOW / 1000) + 61)).toEqual({ started: false, messageId: 'msg_A', state: 'done', startedAt: '2026-11-23T12:00:00.000Z' });
    expect(reads).toEqual([]);
  });
});
