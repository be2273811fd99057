/** The DynamoDB Ably message log against dynalite: real conditional writes, GSIs, filters and paging, no mocks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { LocalDynamoDb } from '../../../lib/local/local-dynamodb';
import { ABLY_MESSAGES_TABLE, ABLY_STATE_TABLE } from '../../../lambdas/adapters/dynamodb/table-definitions';
import { DynamoDbAblyMessageLog } from '../../../lambdas/adapters/dynamodb/ably-message-log';
import { encodePageCursor } from '../../../lambdas/adapters/dynamodb/page-cursor';
import { eventIdFor } from '../../../lambdas/core/events/event-id';
import { BadRequestError } from '../../../lambdas/core/errors';
import type { AblyMessageQuery, LoggedAblyMessage } from '../../../lambdas/providers/ably/ably-ports';

const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-ably-log-'));
const dynamodb = new LocalDynamoDb(dataDir);
const tables = { messages: 'ably-messages', state: 'ably-state' };
const now = new Date('2026-11-23T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EXPIRES_AT = Math.floor(now.getTime() / 1000) + 30 * 86_400;
let documents: DynamoDBDocumentClient;
let log: DynamoDbAblyMessageLog;

function message(source: string, messageId: string, timestamp: number, overrides: Partial<LoggedAblyMessage> = {}): LoggedAblyMessage {
  const channel = overrides.channel ?? 'smartadmin-status';
  return {
    kind: 'message',
    eventId: eventIdFor(source, messageId),
    source,
    messageId,
    channel,
    name: 'status-update',
    clientId: 'device-1',
    connectionId: 'conn-1',
    direction: channel.startsWith('smartadmin-control') ? 'sent' : 'received',
    data: { messageId },
    timestamp,
    receivedAt: new Date(timestamp + 150).toISOString(),
    via: 'webhook',
    ...overrides,
  };
}

/** Every page of a listing, following the cursor to its end. */
async function listAll(query: AblyMessageQuery, maxPages = 100): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await log.list({ ...query, ...(cursor !== undefined ? { cursor } : {}) });
    expect(page.messages.length).toBeLessThanOrEqual(query.limit);
    ids.push(...page.messages.map((entry) => entry.messageId));
    cursor = page.cursor;
    if (++pages > maxPages) throw new Error('the cursor never ended');
  } while (cursor !== undefined);
  return { ids, pages };
}

/** Newest first by (timestamp, message id), as the log promises. */
const newestFirst = (messages: LoggedAblyMessage[]) =>
  [...messages].sort((a, b) => b.timestamp - a.timestamp || (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0)).map((entry) => entry.messageId);

beforeAll(async () => {
  await dynamodb.start();
  await dynamodb.ensureTables([
    { definition: ABLY_MESSAGES_TABLE, tableName: tables.messages },
    { definition: ABLY_STATE_TABLE, tableName: tables.state },
  ]);
  documents = DynamoDBDocumentClient.from(dynamodb.client(), { marshallOptions: { removeUndefinedValues: true } });
  log = new DynamoDbAblyMessageLog(documents, tables, { now: () => now });
});

afterAll(async () => {
  documents.destroy();
  await dynamodb.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('DynamoDbAblyMessageLog.record', () => {
  it('stores a message once under its event id with its index keys, and counts it once', async () => {
    const first = message('rec', 'abc:0:0', Date.parse('2026-11-22T23:59:59.999Z'));
    expect(await log.record(first, EXPIRES_AT)).toBe('stored');
    expect(await log.record({ ...first, data: 'tampered' }, EXPIRES_AT)).toBe('exists');
    const item = (await documents.send(new GetCommand({ TableName: tables.messages, Key: { id: first.eventId } }))).Item;
    expect(item).toMatchObject({
      id: first.eventId,
      sourceChannel: 'rec#smartadmin-status',
      sourceDay: 'rec#2026-11-22',
      timestampId: `00${Date.parse('2026-11-22T23:59:59.999Z')}#abc:0:0`,
      data: '{"messageId":"abc:0:0"}',
      expiresAt: EXPIRES_AT,
    });
    expect(await log.channelCounts('rec')).toEqual([{ channel: 'smartadmin-status', messages: 1, received: 1, sent: 0, lastTimestamp: first.timestamp }]);
  });

  it('stores and counts a message once when many copies are recorded at the same moment', async () => {
    const copy = message('race', 'same:0:0', now.getTime() - HOUR, { channel: 'smartadmin-control-3' });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => log.record(copy, EXPIRES_AT)));
    expect(outcomes.filter((outcome) => outcome === 'stored')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'exists')).toHaveLength(7);
    expect(await log.channelCounts('race')).toEqual([{ channel: 'smartadmin-control-3', messages: 1, received: 0, sent: 1, lastTimestamp: copy.timestamp }]);
  });

  it('keeps lastTimestamp the newest when messages arrive out of order and concurrently, and counts each', async () => {
    const base = now.getTime() - DAY;
    const timestamps = [5, 1, 9, 3, 9, 2, 7, 0].map((offset) => base + offset * 1000);
    await log.record(message('order', 'm-first', base + 4000), EXPIRES_AT);
    await Promise.all(timestamps.map((timestamp, index) => log.record(message('order', `m${index}`, timestamp), EXPIRES_AT)));
    await log.record(message('order', 'm-late', base - 60_000, { channel: 'smartadmin-control-1' }), EXPIRES_AT);
    const counts = await log.channelCounts('order');
    expect(counts.sort((a, b) => a.channel.localeCompare(b.channel))).toEqual([
      { channel: 'smartadmin-control-1', messages: 1, received: 0, sent: 1, lastTimestamp: base - 60_000 },
      { channel: 'smartadmin-status', messages: 9, received: 9, sent: 0, lastTimestamp: base + 9000 },
    ]);
    expect(await log.channelCounts('nobody')).toEqual([]);
  });

  it('round-trips data nested past DynamoDB’s 32 levels and shapes a document attribute would refuse or change', async () => {
    let deep: unknown = { leaf: [1, 'two', null] };
    for (let level = 0; level < 100; level++) deep = level % 2 === 0 ? { [`level${level}`]: deep } : [deep];
    const odd = {
      '': 'empty key',
      emptyString: '',
      emptyArray: [],
      emptyObject: {},
      nulls: [null, { value: null }],
      numbers: [0, -1.5, 1e308, 5e-324, 12345678901234567],
      text: 'ünïcødé 🚀 \u0000 "quotes" \\ back',
      nested: { a: [[[]]], b: [{}, [], ''] },
      boolean: false,
    };
    const shapes: unknown[] = [deep, odd, 'just a string', 42, true, null, [], {}];
    for (const [index, data] of shapes.entries()) {
      const shaped = message('shapes', `shape-${index}`, now.getTime() - index * 1000, { data, extras: { headers: { deep } } });
      expect(await log.record(shaped, EXPIRES_AT)).toBe('stored');
    }
    const undefinedData = message('shapes', 'no-data', now.getTime() - 60_000, { data: undefined, name: undefined, clientId: undefined, connectionId: undefined });
    await log.record(undefinedData, EXPIRES_AT);
    const page = await log.list({ source: 'shapes', limit: 100 });
    expect(page.messages.map((entry) => entry.data)).toEqual([...shapes, undefined]);
    expect(page.messages[0]!.extras).toEqual({ headers: { deep } });
    expect(page.messages[shapes.length]).toEqual({ ...undefinedData, kind: 'message' });
    expect(Object.keys(page.messages[shapes.length]!)).not.toEqual(expect.arrayContaining(['data', 'name', 'clientId', 'connectionId']));
    expect(page.messages[0]).toEqual(message('shapes', 'shape-0', now.getTime(), { data: deep, extras: { headers: { deep } } }));
  });
});

describe('DynamoDbAblyMessageLog.list', () => {
  // Three channels over four days either side of midnight, some in the same millisecond.
  const source = 'listing';
  const channels = ['smartadmin-status', 'smartadmin-control-1', 'smartadmin-control-2'];
  const messages: LoggedAblyMessage[] = [];
  for (let index = 0; index < 250; index++) {
    const step = index % 10 === 9 ? index - 1 : index; // every tenth shares its predecessor's millisecond
    const timestamp = Date.parse('2026-11-20T00:00:00.000Z') - 2 * HOUR + step * 20 * 60_000;
    messages.push(message(source, `msg-${String((index * 7919) % 1000).padStart(3, '0')}`, timestamp, { channel: channels[index % 3]! }));
  }
  const days = new Set(messages.map((entry) => new Date(entry.timestamp).toISOString().slice(0, 10)));

  beforeAll(async () => {
    for (let index = 0; index < messages.length; index += 25) {
      await Promise.all(messages.slice(index, index + 25).map((entry) => log.record(entry, EXPIRES_AT)));
    }
  });

  it('spans several days (the listing must cross day buckets)', () => {
    expect([...days].sort()).toEqual(['2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23']);
    expect(Math.max(...messages.map((entry) => entry.timestamp))).toBeLessThan(now.getTime());
  });

  it('lists every channel newest first across day boundaries, each message once, whatever the page size', async () => {
    const expected = newestFirst(messages);
    for (const limit of [1000, 37, 1]) {
      const { ids, pages } = await listAll({ source, limit }, 300);
      expect(ids).toEqual(expected);
      if (limit === 37) expect(pages).toBe(7);
    }
    const page = await log.list({ source, limit: 3 });
    expect(page.messages.map((entry) => entry.messageId)).toEqual(expected.slice(0, 3));
    expect(page.messages[0]).toEqual(messages.find((entry) => entry.messageId === expected[0]));
  });

  it('lists one channel newest first, without gaps or repeats', async () => {
    for (const channel of channels) {
      const expected = newestFirst(messages.filter((entry) => entry.channel === channel));
      expect((await listAll({ source, channel, limit: 11 })).ids).toEqual(expected);
    }
    expect(await log.list({ source, channel: 'smartadmin-none', limit: 10 })).toEqual({ messages: [] });
    expect((await log.list({ source: 'other', channel: channels[0], limit: 10 })).messages).toEqual([]);
  });

  it('filters by direction, on one channel or all, paging over the filtered reads', async () => {
    for (const direction of ['received', 'sent'] as const) {
      const expected = newestFirst(messages.filter((entry) => entry.direction === direction));
      expect(expected.length).toBeGreaterThan(50);
      expect((await listAll({ source, direction, limit: 13 })).ids).toEqual(expected);
    }
    expect((await listAll({ source, channel: channels[0], direction: 'sent', limit: 5 })).ids).toEqual([]);
    expect((await listAll({ source, channel: channels[1], direction: 'sent', limit: 500 })).ids).toEqual(newestFirst(messages.filter((entry) => entry.channel === channels[1])));
  });

  it('goes on past a filtered query that read its limit of entries without filling the page', async () => {
    // One day, one channel, 230 messages: more than one filtered query reads (200), with few matches among them.
    const dense = Array.from({ length: 230 }, (_, index) =>
      message('dense', `d-${String(index).padStart(3, '0')}`, Date.parse('2026-11-22T01:00:00.000Z') + index * 1000, { direction: index % 40 === 0 ? 'sent' : 'received' }),
    );
    for (let index = 0; index < dense.length; index += 23) await Promise.all(dense.slice(index, index + 23).map((entry) => log.record(entry, EXPIRES_AT)));
    const sent = newestFirst(dense.filter((entry) => entry.direction === 'sent'));
    expect(sent).toHaveLength(6);
    for (const limit of [10, 2]) {
      expect((await listAll({ source: 'dense', direction: 'sent', limit })).ids).toEqual(sent);
      expect((await listAll({ source: 'dense', channel: 'smartadmin-status', direction: 'sent', limit })).ids).toEqual(sent);
    }
    expect((await listAll({ source: 'dense', direction: 'received', limit: 100 })).ids).toEqual(newestFirst(dense.filter((entry) => entry.direction === 'received')));
  });

  it('keeps to since and until, both inclusive, to the millisecond', async () => {
    const sorted = [...messages].sort((a, b) => a.timestamp - b.timestamp);
    const sinceMs = sorted[40]!.timestamp;
    const untilMs = sorted[200]!.timestamp;
    const inRange = (entry: LoggedAblyMessage) => entry.timestamp >= sinceMs && entry.timestamp <= untilMs;
    expect((await listAll({ source, sinceMs, untilMs, limit: 17 })).ids).toEqual(newestFirst(messages.filter(inRange)));
    expect((await listAll({ source, channel: channels[2], sinceMs, untilMs, limit: 9 })).ids).toEqual(
      newestFirst(messages.filter((entry) => inRange(entry) && entry.channel === channels[2])),
    );
    // A one-millisecond window holding two messages of the same millisecond.
    const shared = messages[9]!.timestamp;
    expect((await log.list({ source, sinceMs: shared, untilMs: shared, limit: 10 })).messages.map((entry) => entry.messageId)).toEqual(
      newestFirst(messages.filter((entry) => entry.timestamp === shared)),
    );
    expect(messages.filter((entry) => entry.timestamp === shared)).toHaveLength(2);
    // A range with nothing in it, and one that ends before it starts (the query parser refuses those; the log answers nothing).
    expect(await log.list({ source, sinceMs: now.getTime() - 60_000, limit: 10 })).toEqual({ messages: [] });
    expect(await log.list({ source, sinceMs: untilMs, untilMs: sinceMs, limit: 10 })).toEqual({ messages: [] });
  });

  it('without since reads 90 days back (an option), over empty days in few round trips', async () => {
    const old = message('sparse', 'old', now.getTime() - 60 * DAY);
    const tooOld = message('sparse', 'too-old', now.getTime() - 95 * DAY);
    await log.record(old, EXPIRES_AT);
    await log.record(tooOld, EXPIRES_AT);
    expect(await log.list({ source: 'sparse', limit: 10 })).toEqual({ messages: [{ ...old, kind: 'message' }] });
    expect((await listAll({ source: 'sparse', limit: 10, sinceMs: now.getTime() - 100 * DAY })).ids).toEqual(['old', 'too-old']);
    expect((await listAll({ source: 'sparse', channel: 'smartadmin-status', limit: 10 })).ids).toEqual(['old']);
    const longer = new DynamoDbAblyMessageLog(documents, tables, { now: () => now, lookBackDays: 100 });
    expect((await longer.list({ source: 'sparse', limit: 10 })).messages.map((entry) => entry.messageId)).toEqual(['old', 'too-old']);
  });

  it('bounds the reads of one request: a long walk over empty days answers empty pages with a cursor', async () => {
    const ancient = message('ancient', 'a', now.getTime() - 300 * DAY);
    await log.record(ancient, EXPIRES_AT);
    const longLog = new DynamoDbAblyMessageLog(documents, tables, { now: () => now, lookBackDays: 400 });
    const first = await longLog.list({ source: 'ancient', limit: 10 });
    expect(first).toEqual({ messages: [], cursor: expect.any(String) });
    const pages: string[][] = [];
    let cursor: string | undefined = first.cursor;
    while (cursor !== undefined) {
      const page = await longLog.list({ source: 'ancient', limit: 10, cursor });
      pages.push(page.messages.map((entry) => entry.messageId));
      cursor = page.cursor;
    }
    expect(pages.flat()).toEqual(['a']);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages.length).toBeLessThanOrEqual(4);
  });

  it('refuses a malformed or forged cursor with a 400', async () => {
    const real = (await log.list({ source, limit: 2 })).cursor!;
    expect(real).toMatch(/^[A-Za-z0-9_-]+$/);
    const forged = [
      'not a cursor!',
      '',
      'x'.repeat(5000),
      Buffer.from('not json').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
      encodePageCursor({}),
      encodePageCursor({ before: 'abc' }),
      encodePageCursor({ before: '1234' }),
      encodePageCursor({ before: `${'0'.repeat(15)}#${'x'.repeat(301)}` }),
      encodePageCursor({ before: `${'0'.repeat(15)}#\ud800` }),
      encodePageCursor({ before: `${'0'.repeat(15)}`, day: '2026-11-23' }),
      Buffer.from(JSON.stringify({ before: 17 })).toString('base64url'),
    ];
    for (const cursor of forged) {
      const refused = log.list({ source, limit: 2, cursor });
      await expect(refused).rejects.toBeInstanceOf(BadRequestError);
      await expect(refused).rejects.toMatchObject({ statusCode: 400, message: 'cursor is not valid; pass the cursor of a previous page unchanged' });
    }
    // A well-formed cursor is only a bound inside the request's own partition: it lists older messages, nothing else.
    const bound = encodePageCursor({ before: `${String(messages[100]!.timestamp).padStart(15, '0')}` });
    const page = await log.list({ source, channel: channels[0], limit: 1000, cursor: bound });
    expect(page.messages.map((entry) => entry.messageId)).toEqual(
      newestFirst(messages.filter((entry) => entry.channel === channels[0] && entry.timestamp < messages[100]!.timestamp)),
    );
  });
});
