/** The Ably API's request parsing and answer shaping: every refusal a 400/404 naming the problem, and the documents it answers. */
import { BadRequestError, NotFoundError, type HookhubError } from '../../../lambdas/core/errors';
import { parseHookhubConfig, type HookhubConfig } from '../../../lambdas/core/sources/source-definition';
import {
  buildStatsDocument,
  messagePageResponse,
  parseMessageQuery,
  parseRunsQuery,
  parseStatsQuery,
  parseSyncRequest,
  parseTime,
  resolveAblySource,
  toPublicMessage,
} from '../../../lambdas/providers/ably/message-log-queries';
import type { LoggedAblyMessage, SyncRun } from '../../../lambdas/providers/ably/ably-ports';

const ably = (id: string) => ({ id, preset: 'ably', secret: { env: 'ABLY_API_KEY' } });
const demo = { id: 'demo', verification: { scheme: 'none' }, insecure: true };
const configWith = (...sources: object[]): HookhubConfig => parseHookhubConfig({ sources });
const one = configWith(demo, ably('ably'));
const two = configWith(ably('ably-eu'), ably('ably-us'), demo);
const none = configWith(demo);

/** The error a call throws, for asserting its status and message together. */
function refusal(call: () => unknown): { status: number; message: string } {
  try {
    call();
  } catch (error) {
    return { status: (error as HookhubError).statusCode, message: (error as Error).message };
  }
  throw new Error('expected a refusal');
}

describe('resolveAblySource', () => {
  it('defaults to the only Ably source, and takes a named one', () => {
    expect(resolveAblySource(one, undefined)).toBe('ably');
    expect(resolveAblySource(two, 'ably-us')).toBe('ably-us');
  });

  it('refuses: several without a name (400 naming them), none configured, unknown or not Ably (404)', () => {
    expect(refusal(() => resolveAblySource(two, undefined))).toEqual({ status: 400, message: expect.stringContaining('ably-eu, ably-us') });
    expect(refusal(() => resolveAblySource(none, undefined))).toEqual({ status: 404, message: expect.stringContaining('no Ably source is configured') });
    expect(refusal(() => resolveAblySource(one, 'nope'))).toEqual({ status: 404, message: "unknown source 'nope'; Ably sources: ably" });
    expect(refusal(() => resolveAblySource(one, 'demo'))).toEqual({ status: 404, message: expect.stringContaining("'demo' is not an Ably source") });
    expect(refusal(() => resolveAblySource(one, '')).status).toBe(400);
  });
});

describe('parseTime', () => {
  it('reads epoch ms, dates (UTC midnight) and ISO times with a zone', () => {
    expect(parseTime('since', '1795428000000')).toBe(1795428000000);
    expect(parseTime('since', '0')).toBe(0);
    expect(parseTime('since', '2026-11-23')).toBe(Date.parse('2026-11-23T00:00:00Z'));
    expect(parseTime('since', '2026-11-23T10:00Z')).toBe(Date.parse('2026-11-23T10:00:00Z'));
    expect(parseTime('since', '2026-11-23T10:00:00.123Z')).toBe(Date.parse('2026-11-23T10:00:00.123Z'));
    expect(parseTime('since', '2026-11-23T12:00:00+02:00')).toBe(Date.parse('2026-11-23T10:00:00Z'));
  });

  it('refuses anything else, naming the parameter', () => {
    for (const raw of ['', 'yesterday', '2026-11-23T10:00:00', '2026-02-30', '2026-13-01', '2026-11-23T24:00:00Z', '-5', '1.5', '99999999999999999', 'November 23, 2026', '2026-11-23T10:00:00Z ']) {
      const error = refusal(() => parseTime('until', raw));
      expect({ raw, ...error }).toEqual({ raw, status: 400, message: expect.stringMatching(/^until: must be an ISO 8601 time/) });
    }
  });
});

describe('parseMessageQuery', () => {
  it('takes defaults and every filter', () => {
    expect(parseMessageQuery({}, one)).toEqual({ source: 'ably', limit: 100 });
    expect(
      parseMessageQuery({ source: 'ably', channel: 'smartadmin-status', direction: 'sent', since: '2026-11-01', until: '1795428000000', limit: '1000', cursor: 'abc' }, one),
    ).toEqual({ source: 'ably', channel: 'smartadmin-status', direction: 'sent', sinceMs: Date.parse('2026-11-01'), untilMs: 1795428000000, limit: 1000, cursor: 'abc' });
  });

  it('refuses bad parameters with a message naming them', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ limit: '0' }, /^limit: must be an integer from 1 to 1000/],
      [{ limit: '1001' }, /^limit/],
      [{ limit: '10.5' }, /^limit/],
      [{ direction: 'both' }, /^direction: must be received or sent/],
      [{ channel: '' }, /^channel: must be a channel name of 1 to 200/],
      [{ channel: 'x'.repeat(201) }, /^channel/],
      [{ since: 'soon' }, /^since: must be an ISO 8601 time/],
      [{ since: '2026-11-23T10:00:01Z', until: '2026-11-23T10:00:00Z' }, /^since: must not be later than until/],
      [{ cursor: '' }, /^cursor is not valid/],
      [{ chanel: 'typo' }, /^unknown query parameter 'chanel'; expected source, channel/],
    ];
    for (const [parameters, message] of cases) {
      expect(refusal(() => parseMessageQuery(parameters, one))).toEqual({ status: 400, message: expect.stringMatching(message) });
    }
    expect(refusal(() => parseMessageQuery({}, two)).status).toBe(400);
    expect(refusal(() => parseMessageQuery({ source: 'x' }, one)).status).toBe(404);
  });
});

describe('parseStatsQuery and parseRunsQuery', () => {
  it('resolve the source; runs list every source unless one is named, 20 by default, at most 100', () => {
    expect(parseStatsQuery({}, one)).toEqual({ source: 'ably' });
    expect(refusal(() => parseStatsQuery({ limit: '5' }, one)).status).toBe(400);
    expect(parseRunsQuery({}, two)).toEqual({ limit: 20 });
    expect(parseRunsQuery({ source: 'ably-eu', limit: '100' }, two)).toEqual({ source: 'ably-eu', limit: 100 });
    expect(refusal(() => parseRunsQuery({ limit: '101' }, two))).toEqual({ status: 400, message: 'limit: must be an integer from 1 to 100' });
    expect(refusal(() => parseRunsQuery({ source: 'demo' }, two)).status).toBe(404);
  });
});

describe('parseSyncRequest', () => {
  it('accepts an empty body, channels, since (ISO or epoch ms) and a source', () => {
    expect(parseSyncRequest({}, one)).toEqual({ sourceId: 'ably' });
    expect(parseSyncRequest({ channels: ['a', 'b', 'a'], since: '2026-11-23T00:00:00Z', source: 'ably-us' }, two)).toEqual({
      sourceId: 'ably-us',
      channels: ['a', 'b'],
      sinceMs: Date.parse('2026-11-23T00:00:00Z'),
    });
    expect(parseSyncRequest({ since: 1795428000000 }, one)).toEqual({ sourceId: 'ably', sinceMs: 1795428000000 });
  });

  it('refuses anything else with a message naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [[], /^the body must be a JSON object/],
      ['channels', /^the body must be a JSON object/],
      [null, /^the body must be a JSON object/],
      [{ channel: ['a'] }, /^unknown field 'channel'; expected channels, since, source/],
      [{ channels: 'a' }, /^channels: must be an array of 1 to 100/],
      [{ channels: [] }, /^channels: must be an array of 1 to 100/],
      [{ channels: Array.from({ length: 101 }, (_, index) => `c${index}`) }, /^channels: must be an array of 1 to 100/],
      [{ channels: ['ok', 7] }, /^channels\[1\]: must be a channel name/],
      [{ channels: ['ok', ''] }, /^channels\[1\]: must be a channel name of 1 to 200/],
      [{ channels: ['x'.repeat(201)] }, /^channels\[0\]/],
      [{ since: 'last week' }, /^since: must be an ISO 8601 time/],
      [{ since: 1.5 }, /^since: epoch milliseconds must be a whole number/],
      [{ since: -1 }, /^since: epoch milliseconds/],
      [{ since: true }, /^since: must be an ISO 8601 time or epoch milliseconds/],
      [{ source: 7 }, /^source: must be a source id/],
    ];
    for (const [body, message] of cases) {
      expect(refusal(() => parseSyncRequest(body, one))).toEqual({ status: 400, message: expect.stringMatching(message) });
    }
    expect(refusal(() => parseSyncRequest({ source: 'demo' }, one)).status).toBe(404);
    expect(() => parseSyncRequest({}, two)).toThrow(BadRequestError);
    expect(() => parseSyncRequest({}, none)).toThrow(NotFoundError);
  });
});

const logged = (overrides: Partial<LoggedAblyMessage> = {}): LoggedAblyMessage => ({
  kind: 'message',
  eventId: 'evt_0123456789abcdef0123456789abcdef',
  source: 'ably',
  messageId: 'abc:0:0',
  channel: 'smartadmin-status',
  direction: 'received',
  data: { ok: true },
  timestamp: Date.parse('2026-11-23T10:00:00.250Z'),
  receivedAt: '2026-11-23T10:00:00.400Z',
  via: 'history',
  ...overrides,
});

describe('toPublicMessage and messagePageResponse', () => {
  it('answers every field, absent ones as null, the timestamp also as ISO, decodeError and its encoding only when set', () => {
    expect(toPublicMessage(logged({ extras: { headers: {} } }))).toEqual({
      messageId: 'abc:0:0',
      eventId: 'evt_0123456789abcdef0123456789abcdef',
      source: 'ably',
      channel: 'smartadmin-status',
      name: null,
      clientId: null,
      connectionId: null,
      direction: 'received',
      data: { ok: true },
      timestamp: Date.parse('2026-11-23T10:00:00.250Z'),
      timestampIso: '2026-11-23T10:00:00.250Z',
      receivedAt: '2026-11-23T10:00:00.400Z',
      via: 'history',
    });
    expect(toPublicMessage(logged({ name: 'ping', clientId: 'c', connectionId: 'k', data: 'AAE=', encoding: 'base64/cipher', decodeError: 'cipher without key' }))).toMatchObject({
      name: 'ping',
      clientId: 'c',
      connectionId: 'k',
      data: 'AAE=',
      decodeError: 'cipher without key',
      encoding: 'base64/cipher',
    });
  });

  it('keeps the cursor, and leaves older payloads out once the response budget is spent', () => {
    const big = 'x'.repeat(600);
    const page = { messages: [logged({ messageId: 'n', data: big }), logged({ messageId: 'm', data: big }), logged({ messageId: 'o', data: 'small' })], cursor: 'next' };
    expect(messagePageResponse(page).cursor).toBe('next');
    expect(messagePageResponse({ messages: [] })).toEqual({ messages: [], cursor: null });
    const metadata = JSON.stringify(toPublicMessage(logged())).length * 3;
    const response = messagePageResponse(page, metadata + 700);
    expect(response.messages.map((message) => ('dataOmitted' in message ? 'omitted' : 'data' in message ? 'data' : '?'))).toEqual(['data', 'omitted', 'omitted']);
    expect(response.messages[1]).toMatchObject({ messageId: 'm', dataOmitted: true, eventPath: '/api/events/evt_0123456789abcdef0123456789abcdef' });
    expect(response.messages[1]).not.toHaveProperty('data');
  });
});

describe('buildStatsDocument', () => {
  const run = (overrides: Partial<SyncRun> = {}): SyncRun => ({
    runId: 'run_1',
    source: 'ably',
    trigger: 'schedule',
    startedAt: '2026-11-23T10:00:00.000Z',
    finishedAt: '2026-11-23T10:00:04.000Z',
    durationMs: 4000,
    outcome: 'partial',
    channels: [],
    pages: 3,
    seen: 12,
    stored: 5,
    duplicates: 7,
    errors: ['smartadmin-control-2: 40160 not permitted'],
    ...overrides,
  });

  it('sums the channel counters and reports the newest message and the last sync', () => {
    const document = buildStatsDocument(
      'ably',
      [
        { channel: 'smartadmin-status', messages: 10, received: 10, sent: 0, lastTimestamp: Date.parse('2026-11-23T09:00:00Z') },
        { channel: 'smartadmin-control-1', messages: 4, received: 0, sent: 4, lastTimestamp: Date.parse('2026-11-23T09:30:00Z') },
        { channel: '__proto__', messages: 1, received: 1, sent: 0 },
      ],
      run(),
    );
    expect(document).toEqual({
      source: 'ably',
      totalMessages: 15,
      lastMessageAt: '2026-11-23T09:30:00.000Z',
      byChannel: { ['__proto__']: 1, 'smartadmin-control-1': 4, 'smartadmin-status': 10 },
      byDirection: { received: 11, sent: 4 },
      lastSync: { runId: 'run_1', finishedAt: '2026-11-23T10:00:04.000Z', outcome: 'partial', stored: 5, duplicates: 7, errors: 1 },
    });
    expect(Object.keys(JSON.parse(JSON.stringify(document)).byChannel)).toEqual(['__proto__', 'smartadmin-control-1', 'smartadmin-status']);
  });

  it('answers zeros and nulls for a source with no messages and no runs', () => {
    expect(buildStatsDocument('ably', [], undefined)).toEqual({
      source: 'ably',
      totalMessages: 0,
      lastMessageAt: null,
      byChannel: {},
      byDirection: { received: 0, sent: 0 },
      lastSync: null,
    });
  });
});
