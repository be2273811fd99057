/** The DynamoDB adapters against dynalite: real conditional writes, GSIs and pagination, no mocks. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LocalDynamoDb } from '../../../lib/local/local-dynamodb';
import { CONNECTIONS_TABLE, EVENTS_TABLE } from '../../../lambdas/adapters/dynamodb/table-definitions';
import { DynamoDbEventStore } from '../../../lambdas/adapters/dynamodb/event-store';
import { DynamoDbConnectionStore } from '../../../lambdas/adapters/dynamodb/connection-store';
import type { StoredEvent } from '../../../lambdas/core/events/inbound-event';
import { BadRequestError } from '../../../lambdas/core/errors';

const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-dynamodb-'));
const dynamodb = new LocalDynamoDb(dataDir);
let documents: DynamoDBDocumentClient;
let events: DynamoDbEventStore;
let connections: DynamoDbConnectionStore;
const now = new Date('2026-11-23T12:00:00.000Z');

function storedEvent(index: number, receivedAt: string, overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: `evt_${String(index).padStart(32, '0')}`,
    source: index % 2 === 0 ? 'even' : 'odd',
    providerEventId: `p${index}`,
    type: 't',
    channel: 'c',
    receivedAt,
    requestId: 'r',
    headers: {},
    body: `{"index":${index}}`,
    payloadFormat: 'json',
    status: 'received',
    attempts: 1,
    duplicates: 0,
    ownerMessageId: `m${index}`,
    ownerReceiveCount: 1,
    leaseUntil: Date.parse(receivedAt) + 180_000,
    storedAt: receivedAt,
    processedAt: receivedAt,
    expiresAt: 0,
    ...overrides,
  };
}

const claimOf = (event: StoredEvent, receiveCount = 1) => ({ messageId: event.ownerMessageId, receiveCount });

/** Stores an event through the worker's own writes: recorded as processed, then failed if asked. */
async function store(event: StoredEvent, status: 'processed' | 'failed' = 'processed'): Promise<void> {
  const recorded = await events.recordProcessed(event, claimOf(event), Date.parse(event.receivedAt));
  if (!recorded.recorded) throw new Error(`${event.id} was stored already`);
  if (status === 'failed') await events.markFailed(recorded.event, claimOf(event), 'Error: failed');
}

beforeAll(async () => {
  await dynamodb.start();
  await dynamodb.ensureTables([
    { definition: EVENTS_TABLE, tableName: 'events' },
    { definition: CONNECTIONS_TABLE, tableName: 'connections' },
  ]);
  documents = DynamoDBDocumentClient.from(dynamodb.client(), { marshallOptions: { removeUndefinedValues: true } });
  events = new DynamoDbEventStore(documents, 'events', { retentionDays: 30, now: () => now });
  connections = new DynamoDbConnectionStore(documents, 'connections');
});

afterAll(async () => {
  documents.destroy();
  await dynamodb.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('DynamoDbEventStore', () => {
  it('records an event once with one conditional write; a copy is refused and the first copy stays', async () => {
    const first = storedEvent(100, '2026-11-23T11:00:00.000Z');
    const recorded = await events.recordProcessed(first, claimOf(first), Date.parse(first.receivedAt));
    expect(recorded).toMatchObject({ recorded: true, event: { id: first.id, status: 'processed', attempts: 1, duplicates: 0, body: first.body, storedAt: first.processedAt } });
    const copy = { ...first, body: '{"tampered":true}', ownerMessageId: 'other' };
    const refused = await events.recordProcessed(copy, claimOf(copy), Date.parse(first.receivedAt));
    expect(refused).toMatchObject({ recorded: false, existing: { body: first.body, ownerMessageId: 'm100', status: 'processed' } });
    // A processed event is in byDay only: the sparse status index holds events that are not processed.
    const raw = await documents.send(new GetCommand({ TableName: 'events', Key: { id: first.id } }));
    expect(raw.Item).toMatchObject({ day: '2026-11-23', source: 'even', status: 'processed' });
    expect(raw.Item!.statusDay).toBeUndefined();
    expect(raw.Item!.body).toBeUndefined(); // packed into the compressed `content`
  });

  it('fences failures on the owning delivery; a failed event is listed and any one copy may take it over', async () => {
    const event = storedEvent(101, '2026-11-23T11:00:01.000Z');
    const owner = claimOf(event);
    const nowMs = Date.parse('2026-11-23T11:00:02.000Z');
    await events.recordProcessed(event, owner, nowMs);

    // Processed: another message may not take it over; a newer delivery of the owner may (it may not have pushed).
    expect(await events.recordProcessed(event, { messageId: 'other', receiveCount: 1 }, nowMs)).toMatchObject({ recorded: false });
    const newer = claimOf(event, 2);
    expect(await events.recordProcessed(event, newer, nowMs)).toMatchObject({ recorded: true, event: { attempts: 2, ownerReceiveCount: 2 } });
    // The superseded first delivery can no longer record anything.
    expect(await events.markFailed(event, owner, 'Error: stale')).toBe(false);
    expect(await events.markFailed(event, newer, 'Error: boom')).toBe(true);
    await Promise.all([events.recordDuplicate(event.id), events.recordDuplicate(event.id)]);
    const failed = await events.get(event.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, duplicates: 2, lastError: 'Error: boom', storedAt: event.processedAt });
    expect(failed!.processedAt).toBeUndefined();
    expect((await events.list({ status: 'failed', limit: 10 })).events.map((e) => e.id)).toContain(event.id);
    expect((await events.list({ source: 'odd', status: 'failed', limit: 10 })).events.map((e) => e.id)).toContain(event.id);
    // Only the owning delivery may set it back to processed (the last receive's guard); that empties the failed listing.
    expect(await events.markProcessed(event, owner, '2026-11-23T11:00:02.500Z')).toBe(false);
    expect(await events.markProcessed(event, newer, '2026-11-23T11:00:02.500Z')).toBe(true);
    expect(await events.get(event.id)).toMatchObject({ status: 'processed', processedAt: '2026-11-23T11:00:02.500Z', attempts: 2 });
    expect((await events.list({ status: 'failed', limit: 10 })).events.map((e) => e.id)).not.toContain(event.id);
    expect(await events.markFailed(event, newer, 'Error: boom')).toBe(true);

    // Failed: any copy may take over, but only one of two racing copies wins.
    const racers = await Promise.all(['m-a', 'm-b'].map((messageId) => events.recordProcessed({ ...event, processedAt: '2026-11-23T11:00:03.000Z' }, { messageId, receiveCount: 1 }, nowMs)));
    expect(racers.filter((racer) => racer.recorded)).toHaveLength(1);
    const processed = await events.get(event.id);
    expect(processed).toMatchObject({ status: 'processed', attempts: 3, processedAt: '2026-11-23T11:00:03.000Z', storedAt: event.processedAt });
    expect(processed!.lastError).toBeUndefined();
    expect((await events.list({ status: 'failed', limit: 10 })).events.map((e) => e.id)).not.toContain(event.id);
    expect((await events.list({ status: 'processed', limit: 100 })).events.map((e) => e.id)).toContain(event.id);
  });

  it('reads, lists and takes over items of the previous shape (plain body, index keys of three indexes)', async () => {
    const legacy = storedEvent(103, '2026-11-23T11:00:03.000Z', { status: 'received', leaseUntil: Date.parse('2026-11-23T11:03:03.000Z') });
    const day = '2026-11-23';
    await documents.send(
      new PutCommand({
        TableName: 'events',
        Item: { ...legacy, headers: [['x-github-event', 'push']], day, sourceDay: `odd#${day}`, statusDay: `received#${day}`, receivedAtId: `${legacy.receivedAt}#${legacy.id}` },
      }),
    );
    expect(await events.get(legacy.id)).toMatchObject({ body: legacy.body, status: 'received', headers: { 'x-github-event': 'push' } });
    expect((await events.list({ status: 'received', limit: 10 })).events.map((e) => e.id)).toContain(legacy.id);
    expect((await events.list({ source: 'odd', limit: 100 })).events.map((e) => e.id)).toContain(legacy.id);
    // A `received` record of the previous shape keeps its lease; once it ran out, a copy takes the event over.
    const copy = { ...legacy, body: '{"copy":true}', ownerMessageId: 'rescuer' };
    expect(await events.recordProcessed(copy, claimOf(copy), Date.parse('2026-11-23T11:00:04.000Z'))).toMatchObject({ recorded: false });
    expect(await events.recordProcessed(copy, claimOf(copy), Date.parse('2026-11-23T11:03:04.000Z'))).toMatchObject({ recorded: true, event: { body: legacy.body, status: 'processed', attempts: 2 } });
    expect((await events.list({ status: 'received', limit: 10 })).events.map((e) => e.id)).not.toContain(legacy.id);
  });

  it('takes over a failed item of the previous shape whose plain body is near the size cap', async () => {
    const bytes = randomBytes(258_048); // incompressible: the packed copy is as large as the body
    const legacy = storedEvent(104, '2026-11-23T11:00:04.000Z', { status: 'failed', body: bytes.toString('base64'), payloadFormat: 'base64' });
    const day = '2026-11-23';
    await documents.send(
      new PutCommand({ TableName: 'events', Item: { ...legacy, headers: [], day, sourceDay: `even#${day}`, statusDay: `failed#${day}`, receivedAtId: `${legacy.receivedAt}#${legacy.id}` } }),
    );
    const copy = { ...legacy, ownerMessageId: 'rescuer' };
    expect(await events.recordProcessed(copy, claimOf(copy), Date.parse('2026-11-23T11:00:05.000Z'))).toMatchObject({ recorded: true, event: { status: 'processed', body: legacy.body } });
  });

  it('stores headers whatever their names (constructor, __proto__, toString), and reads items written as a map', async () => {
    const headers = JSON.parse('{"constructor":"c","__proto__":"p","tostring":"t","hasownproperty":"h","content-type":"application/json"}') as Record<string, string>;
    const event = storedEvent(102, '2026-11-23T11:00:04.000Z', { headers });
    expect(await events.recordProcessed(event, claimOf(event), 0)).toMatchObject({ recorded: true });
    const entries = (map: object) => Object.entries(map).sort();
    expect(entries((await events.get(event.id))!.headers)).toEqual(entries(headers));
    const again = await events.recordProcessed(event, claimOf(event, 2), 0);
    expect(again.recorded && entries(again.event.headers)).toEqual(entries(headers));
    expect(entries((await events.list({ source: 'even', limit: 100 })).events.find((listed) => listed.id === event.id)!.headers)).toEqual(entries(headers));

    // The shape items had before: a map attribute.
    const older = storedEvent(104, '2026-11-23T11:00:05.000Z');
    await documents.send(new PutCommand({ TableName: 'events', Item: { ...older, headers: { 'x-github-event': 'push' }, day: '2026-11-23' } }));
    expect(entries((await events.get(older.id))!.headers)).toEqual([['x-github-event', 'push']]);
  });

  it('never resurrects a removed event as a counter stub', async () => {
    await events.recordDuplicate('evt_gone');
    expect(await events.get('evt_gone')).toBeUndefined();
  });

  it('pages newest first across day partitions, with source and status filters', async () => {
    const days = ['2026-11-23', '2026-11-22', '2026-11-20'];
    let index = 0;
    for (const day of days) {
      for (let hour = 0; hour < 4; hour++) {
        await store(storedEvent(index, `${day}T0${hour}:00:00.000Z`), index % 3 === 0 ? 'failed' : 'processed');
        index++;
      }
    }
    // A page size that does not divide the day sizes exercises cursors inside and across days.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await events.list({ limit: 5, cursor, source: undefined });
      seen.push(...page.events.filter((event) => event.providerEventId.length <= 3).map((event) => event.receivedAt));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toHaveLength(12);
    expect([...seen].sort().reverse()).toEqual(seen);

    const evenFailed = await events.list({ source: 'even', status: 'failed', limit: 100 });
    expect(evenFailed.events.length).toBeGreaterThan(0);
    expect(evenFailed.events.every((event) => event.source === 'even' && event.status === 'failed')).toBe(true);
    const expected = [...Array(12).keys()].filter((i) => i % 2 === 0 && i % 3 === 0).length;
    expect(evenFailed.events.filter((event) => Number(event.providerEventId.slice(1)) < 12)).toHaveLength(expected);
  });

  it('refuses a forged, future or foreign cursor with a 400', async () => {
    const encode = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
    await expect(events.list({ limit: 5, cursor: 'bm90LWpzb24' })).rejects.toThrow(BadRequestError);
    await expect(events.list({ limit: 5, cursor: encode(null) })).rejects.toThrow(BadRequestError);
    await expect(events.list({ limit: 5, cursor: encode({ query: 'byDay||', day: '2026-11-23', key: { id: { S: 'x' } } }) })).rejects.toThrow(BadRequestError);
    await expect(events.list({ limit: 5, cursor: encode({ query: 'byDay||', day: '2999-01-01' }) })).rejects.toThrow(BadRequestError);
    const bySource = await events.list({ source: 'even', limit: 1 });
    expect(bySource.cursor).toBeDefined();
    await expect(events.list({ status: 'failed', limit: 1, cursor: bySource.cursor })).rejects.toThrow('other source/status filters');
  });

  it('refuses every forged cursor with a 400 before DynamoDB sees it, and a real cursor still pages', async () => {
    const encode = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
    const id = 'evt_0000000000000000000000000000000a';
    const key = { id, day: '2026-11-23', receivedAtId: `2026-11-23T01:00:00.000Z#${id}` };
    const forged = (cursorKey: unknown, query = 'byDay||', day = '2026-11-23') => encode({ query, day, key: cursorKey });
    const cursors: Array<[string, string]> = [
      ['key attribute of another index', forged({ id, sourceDay: 'even#2026-11-23', receivedAtId: key.receivedAtId })],
      ['key attribute missing', forged({ id, day: key.day })],
      ['extra key attribute', forged({ ...key, status: 'failed' })],
      ['only the table key', forged({ id })],
      ['empty key', forged({})],
      ['key is an array', forged([id, key.day, key.receivedAtId])],
      ['key is a string', forged('evt')],
      ['number value', forged({ ...key, receivedAtId: 5 })],
      ['attribute-value map', forged({ ...key, id: { S: id } })],
      ['null value', forged({ ...key, id: null })],
      ['id not an event id', forged({ ...key, id: 'evt_x' })],
      ['partition of another day', forged({ ...key, day: '2026-11-22' })],
      ['sort key of another event', forged({ ...key, receivedAtId: '2026-11-23T01:00:00.000Z#evt_ffffffffffffffffffffffffffffffff' })],
      ['sort key of another day', forged({ ...key, receivedAtId: `2026-11-21T01:00:00.000Z#${id}` })],
      ['sort key not a timestamp', forged({ ...key, receivedAtId: `x#${id}` })],
      ['huge sort key', forged({ ...key, receivedAtId: `2026-11-23T01:00:00.000Z#${id}${'x'.repeat(5_000)}` })],
      ['huge cursor', encode({ query: 'byDay||', day: '2026-11-23', padding: 'x'.repeat(100_000) })],
      ['extra cursor field', encode({ query: 'byDay||', day: '2026-11-23', key, more: 1 })],
      ['day not a date', encode({ query: 'byDay||', day: '2026-13-45' })],
      ['day a number', encode({ query: 'byDay||', day: 20261123 })],
      ['query a number', encode({ query: 1, day: '2026-11-23' })],
      ['not base64url', '%%%not-base64%%%'],
      ['not JSON', Buffer.from('{"query": "byDay||", ').toString('base64url')],
      ['JSON array', encode(['byDay||', '2026-11-23'])],
      ['JSON string', encode('byDay||')],
    ];
    const outcomes: Record<string, string> = {};
    for (const [name, cursor] of cursors) {
      outcomes[name] = await events.list({ limit: 5, cursor }).then(
        () => 'accepted',
        (error: unknown) => (error instanceof BadRequestError ? 'refused' : `failed: ${String(error)}`),
      );
    }
    expect(outcomes).toEqual(Object.fromEntries(cursors.map(([name]) => [name, 'refused'])));

    // A cursor of another index or filter, even one DynamoDB returned, is refused too.
    for (const index of [200, 202, 204]) await store(storedEvent(index, `2026-11-23T02:00:0${index % 10}.000Z`), 'failed');
    const bySource = await events.list({ source: 'even', limit: 1 });
    const byStatus = await events.list({ status: 'failed', limit: 1 });
    for (const [cursor, query] of [
      [bySource.cursor, { source: 'odd' }],
      [bySource.cursor, { source: 'even', status: 'failed' as const }],
      [byStatus.cursor, {}],
      [byStatus.cursor, { status: 'processed' as const }],
    ] as const) {
      await expect(events.list({ limit: 1, cursor, ...query })).rejects.toThrow(BadRequestError);
    }
    // With its own filters the same cursor pages on, to an event the first page did not hold.
    const next = await events.list({ source: 'even', limit: 1, cursor: bySource.cursor });
    expect(next.events).toHaveLength(1);
    expect(next.events[0]!.id).not.toBe(bySource.events[0]!.id);
  });

  it('pages a source filter over a busy day without skipping or repeating, reading a few hundred entries per query', async () => {
    // 600 events of one day: a rare source (every 150th) among a common one.
    const day = '2026-11-20';
    for (let index = 0; index < 600; index++) {
      const receivedAt = new Date(Date.parse(`${day}T00:00:00.000Z`) + index * 1000).toISOString();
      await store(storedEvent(10_000 + index, receivedAt, { source: index % 150 === 0 ? 'rare' : 'busy' }));
    }
    const walk = async (source: string, limit: number) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let requests = 0;
      do {
        const page = await events.list({ source, limit, cursor });
        expect(page.events.length).toBeLessThanOrEqual(limit);
        seen.push(...page.events.filter((event) => event.receivedAt.startsWith(day)).map((event) => event.id));
        cursor = page.cursor;
        requests++;
      } while (cursor && requests < 200);
      return seen;
    };
    const rare = await walk('rare', 1);
    expect(rare).toHaveLength(4);
    expect(new Set(rare).size).toBe(4);
    // A read of 200 entries finds more matches than a page of 7 takes: the next page starts after the last one kept.
    const busy = await walk('busy', 7);
    expect(busy).toHaveLength(596);
    expect(new Set(busy).size).toBe(596);
  });

  it('bounds the days one request walks: a sparse filter answers with fewer events and a cursor', async () => {
    const page = await events.list({ source: 'nobody', limit: 10 });
    expect(page.events).toEqual([]);
    expect(page.cursor).toBeDefined();
    let cursor = page.cursor;
    let requests = 1;
    while (cursor) {
      cursor = (await events.list({ source: 'nobody', limit: 10, cursor })).cursor;
      requests++;
    }
    expect(requests).toBe(Math.ceil((30 + 2) / 14));
  });
});

describe('DynamoDbConnectionStore', () => {
  it('finds subscribers per pattern and forgets a removed connection entirely', async () => {
    await connections.save({ connectionId: 'a=/+', channels: ['demo', 'ably:*'], connectedAt: now.toISOString(), expiresAt: 1 });
    await connections.save({ connectionId: 'b', channels: ['*'], connectedAt: now.toISOString(), expiresAt: 1 });
    expect((await connections.findSubscribers(['ably:job', '*', 'ably:*'])).sort()).toEqual(['a=/+', 'b']);
    expect(await connections.findSubscribers(['demo'])).toEqual(['a=/+']);

    await connections.removeChannels('a=/+', ['demo']);
    expect(await connections.findSubscribers(['demo'])).toEqual([]);
    await connections.remove('a=/+');
    expect(await connections.findSubscribers(['ably:*'])).toEqual([]);
  });

  describe('the per-connection channel cap', () => {
    const options = { expiresAt: 4_000_000_000, maxChannels: 20 };
    const channels = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
    /** The subscriptions fan-out would find: the connection's channel items. */
    async function channelItems(connectionId: string): Promise<string[]> {
      const result = await documents.send(
        new QueryCommand({ TableName: 'connections', KeyConditionExpression: 'connectionId = :id', ExpressionAttributeValues: { ':id': connectionId }, ConsistentRead: true }),
      );
      return (result.Items ?? []).filter((item) => item.entry !== 'connection').map((item) => String(item.channel)).sort();
    }

    it('counts existing subscriptions, not twice on resubscribe, and refuses past the cap changing nothing', async () => {
      await connections.save({ connectionId: 'capped', channels: channels('q', 15), connectedAt: now.toISOString(), expiresAt: options.expiresAt });
      expect(await connections.addChannels('capped', [...channels('q', 15), ...channels('m', 5)], options)).toEqual({ added: true, subscribed: 20 });
      expect(await connections.addChannels('capped', ['q0', 'm4'], options)).toEqual({ added: true, subscribed: 20 });
      expect(await connections.addChannels('capped', ['q1', 'over-1', 'over-2'], options)).toEqual({ added: false, subscribed: 20, wouldAdd: 2 });
      expect(await channelItems('capped')).toEqual([...channels('q', 15), ...channels('m', 5)].sort());
      expect(await connections.findSubscribers(['over-1'])).toEqual([]);

      await connections.removeChannels('capped', ['q0', 'q1']);
      expect(await connections.addChannels('capped', ['over-1', 'over-2'], options)).toEqual({ added: true, subscribed: 20 });
      expect(await connections.findSubscribers(['over-2'])).toEqual(['capped']);
    });

    it('holds against 50 concurrent subscribes of 20 channels each', async () => {
      await connections.save({ connectionId: 'flooded', channels: [], connectedAt: now.toISOString(), expiresAt: options.expiresAt });
      const outcomes = await Promise.all(Array.from({ length: 50 }, (_, message) => connections.addChannels('flooded', channels(`f${message}-`, 20), options)));
      expect(outcomes.filter((outcome) => outcome.added)).toHaveLength(1);
      expect(await channelItems('flooded')).toHaveLength(20);
    });
  });

  it('is swept by the local TTL stand-in once expired', async () => {
    await connections.save({ connectionId: 'old', channels: ['gone'], connectedAt: now.toISOString(), expiresAt: 10 });
    await connections.save({ connectionId: 'fresh', channels: ['gone'], connectedAt: now.toISOString(), expiresAt: 4_000_000_000 });
    await dynamodb.sweepExpired([{ definition: CONNECTIONS_TABLE, tableName: 'connections' }], 1_000);
    expect(await connections.findSubscribers(['gone'])).toEqual(['fresh']);
  });

  it('sweeps a bounded slice per call and continues where it stopped, until a pass is done', async () => {
    for (let index = 0; index < 6; index++) {
      await connections.save({ connectionId: `sliced-${index}`, channels: ['sliced'], connectedAt: now.toISOString(), expiresAt: 10 });
    }
    const table = [{ definition: CONNECTIONS_TABLE, tableName: 'connections' }];
    const perCall: number[] = [];
    for (let call = 0; call < 20 && (await connections.findSubscribers(['sliced'])).length > 0; call++) {
      perCall.push(await dynamodb.sweepExpired(table, 1_000, { maxScannedPerTable: 3 }));
    }
    expect(await connections.findSubscribers(['sliced'])).toEqual([]);
    expect(Math.max(...perCall)).toBeLessThanOrEqual(3); // never more than it scanned
    expect(perCall.length).toBeGreaterThan(1);
  });
});
