import { TEST_ADMIN_KEY } from '../../fixtures/handler-environment';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { buildHandler, type AblyApiDeps } from '../../../lambdas/handlers/http-ably-api';
import { digestAdminKey } from '../../../lambdas/core/auth/admin-key';
import { eventIdFor } from '../../../lambdas/core/events/event-id';
import { parseHookhubConfig } from '../../../lambdas/core/sources/source-definition';
import { HTTP_ROUTES } from '../../../lambdas/handlers/http/http-routes';
import type { LoggedAblyMessage, SyncRun, SyncStateStore } from '../../../lambdas/providers/ably/ably-ports';
import type { AblyContext } from '../../../lambdas/handlers/ably/ably-context';
import { InMemoryAblyMessageLog } from '../../fixtures/in-memory-ably-log';
import { context, httpEvent } from '../../fixtures/api-gateway-events';

// The module's own wiring (bottom of http-ably-api.ts) gets this context instead of the real adapters.
const wiredContext = { runSync: jest.fn<Promise<SyncRun>, Parameters<AblyContext['runSync']>>() };
jest.mock('../../../lambdas/handlers/ably/ably-context', () => ({
  createAblyContext: () => ({ messageLog: {}, syncState: {}, runSync: (request: Parameters<AblyContext['runSync']>[0]) => wiredContext.runSync(request) }),
}));

const ABLY_ROUTES = HTTP_ROUTES.filter((route) => route.functionName === 'http-ably-api').map((route) => `${route.method} ${route.path}`);

const ablySource = (id: string) => ({ id, preset: 'ably', secret: { env: 'ABLY_API_KEY' } });
const demoSource = { id: 'demo', verification: { scheme: 'none' }, insecure: true };

function syncRun(overrides: Partial<SyncRun> = {}): SyncRun {
  return {
    runId: 'run_1',
    source: 'ably',
    trigger: 'manual',
    startedAt: '2026-11-23T10:00:00.000Z',
    finishedAt: '2026-11-23T10:00:03.500Z',
    durationMs: 3500,
    outcome: 'ok',
    channels: [{ channel: 'smartadmin-status', status: 'done', pages: 2, seen: 150, stored: 20, duplicates: 130, cursorMs: 1795428000000 }],
    pages: 2,
    seen: 150,
    stored: 20,
    duplicates: 130,
    errors: [],
    ...overrides,
  };
}

/** The runs a SyncStateStore keeps, newest first; only listRuns is asked by this API. */
class FakeSyncState implements Pick<SyncStateStore, 'listRuns'> {
  readonly asked: { source?: string; limit: number }[] = [];
  constructor(readonly runs: SyncRun[]) {}
  async listRuns(query: { source?: string; limit: number }): Promise<SyncRun[]> {
    this.asked.push({ ...query });
    return this.runs.filter((run) => query.source === undefined || run.source === query.source).slice(0, query.limit);
  }
}

function setup(sources: object[] = [demoSource, ablySource('ably')]) {
  const messageLog = new InMemoryAblyMessageLog();
  const syncState = new FakeSyncState([
    syncRun({ runId: 'run_3', finishedAt: '2026-11-23T11:00:00.000Z', outcome: 'partial', stored: 4, duplicates: 1, errors: ['smartadmin-control-9: timed out'] }),
    syncRun({ runId: 'run_2', source: 'other' }),
    syncRun({ runId: 'run_1' }),
  ]);
  const runSync = jest.fn<Promise<SyncRun>, Parameters<AblyApiDeps['runSync']>>(async (request) => syncRun({ source: request.sourceId, runId: 'run_manual' }));
  const handler = buildHandler({
    config: parseHookhubConfig({ sources }),
    messageLog,
    syncState: syncState as unknown as SyncStateStore,
    runSync,
    adminKey: async () => digestAdminKey(TEST_ADMIN_KEY),
    logger: new Logger({ logLevel: 'SILENT' }),
  });
  type Result = { statusCode: number; body: string; headers: Record<string, string> };
  const call = async (routeKey: string, options: { query?: Record<string, string>; body?: string; key?: string | null; handle?: typeof handler } = {}) => {
    const [method, path] = routeKey.split(' ');
    const event: APIGatewayProxyEventV2 = httpEvent({
      method,
      routeKey,
      path,
      query: options.query,
      pathParameters: {},
      headers: options.key === null ? {} : { authorization: `Bearer ${options.key ?? TEST_ADMIN_KEY}` },
      body: options.body,
    });
    const result = (await (options.handle ?? handler)(event, context)) as Result;
    return { status: result.statusCode, body: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : undefined, headers: result.headers };
  };
  return { messageLog, syncState, runSync, call };
}

const at = (iso: string) => Date.parse(iso);

function logged(messageId: string, timestamp: number, overrides: Partial<LoggedAblyMessage> = {}): LoggedAblyMessage {
  return {
    kind: 'message',
    eventId: eventIdFor('ably', messageId),
    source: 'ably',
    messageId,
    channel: 'smartadmin-status',
    clientId: 'device-1',
    direction: 'received',
    data: { n: messageId },
    timestamp,
    receivedAt: new Date(timestamp + 100).toISOString(),
    via: 'webhook',
    ...overrides,
  };
}

describe('http-ably-api handler', () => {
  it('names exactly the route table’s four Ably routes', () => {
    expect(ABLY_ROUTES).toEqual(['GET /api/ably/messages', 'GET /api/ably/stats', 'POST /api/sync/ably', 'GET /api/sync/runs']);
  });

  it('refuses every route without the admin key, before doing anything', async () => {
    const { call, runSync } = setup();
    for (const route of ABLY_ROUTES) {
      for (const key of [null, 'wrong-key-wrong-key-wrong']) {
        const response = await call(route, { key, body: '{}' });
        expect({ route, status: response.status, error: response.body?.error }).toEqual({ route, status: 401, error: 'unauthorized' });
      }
    }
    expect(runSync).not.toHaveBeenCalled();
  });

  it('lists messages newest first with every field and a cursor, passing the filters through', async () => {
    const { call, messageLog } = setup();
    await messageLog.record(logged('m1', at('2026-11-23T10:00:00.000Z')), 0);
    await messageLog.record(logged('m2', at('2026-11-23T10:00:01.000Z'), { name: 'ping', connectionId: 'conn-9' }), 0);
    await messageLog.record(logged('m3', at('2026-11-23T10:00:02.000Z'), { channel: 'smartadmin-control-1', direction: 'sent', via: 'history' }), 0);

    const first = await call('GET /api/ably/messages', { query: { limit: '2' } });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json');
    expect((first.body!.messages as { messageId: string }[]).map((message) => message.messageId)).toEqual(['m3', 'm2']);
    expect((first.body!.messages as unknown[])[1]).toEqual({
      messageId: 'm2',
      eventId: eventIdFor('ably', 'm2'),
      source: 'ably',
      channel: 'smartadmin-status',
      name: 'ping',
      clientId: 'device-1',
      connectionId: 'conn-9',
      direction: 'received',
      data: { n: 'm2' },
      timestamp: at('2026-11-23T10:00:01.000Z'),
      timestampIso: '2026-11-23T10:00:01.000Z',
      receivedAt: '2026-11-23T10:00:01.100Z',
      via: 'webhook',
    });
    const second = await call('GET /api/ably/messages', { query: { limit: '2', cursor: first.body!.cursor as string } });
    expect(second.body).toEqual({ messages: [expect.objectContaining({ messageId: 'm1' })], cursor: null });

    const filtered = await call('GET /api/ably/messages', {
      query: { channel: 'smartadmin-control-1', direction: 'sent', since: '2026-11-23', until: '2026-11-23T10:00:02Z' },
    });
    expect((filtered.body!.messages as { messageId: string }[]).map((message) => message.messageId)).toEqual(['m3']);
    expect(messageLog.queries.at(-1)).toEqual({
      source: 'ably',
      channel: 'smartadmin-control-1',
      direction: 'sent',
      sinceMs: at('2026-11-23T00:00:00Z'),
      untilMs: at('2026-11-23T10:00:02Z'),
      limit: 100,
    });
  });

  it('answers 400 or 404 as JSON naming the problem', async () => {
    const { call } = setup();
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ limit: '0' }, 400, /^limit: must be an integer from 1 to 1000$/],
      [{ direction: 'both' }, 400, /^direction: must be received or sent$/],
      [{ since: 'last tuesday' }, 400, /^since: must be an ISO 8601 time/],
      [{ since: '2026-11-24', until: '2026-11-23' }, 400, /^since: must not be later than until$/],
      [{ cursor: 'bm90IGpzb24' }, 400, /^cursor is not valid/],
      [{ colour: 'blue' }, 400, /^unknown query parameter 'colour'/],
      [{ source: 'nope' }, 404, /^unknown source 'nope'/],
      [{ source: 'demo' }, 404, /is not an Ably source/],
    ];
    for (const [query, status, message] of cases) {
      const response = await call('GET /api/ably/messages', { query });
      expect({ query, status: response.status, body: response.body }).toEqual({
        query,
        status,
        body: { error: status === 400 ? 'bad_request' : 'not_found', message: expect.stringMatching(message) },
      });
    }
  });

  it('asks for a source when several are configured, and says so when none is', async () => {
    const several = setup([ablySource('ably-eu'), ablySource('ably-us')]);
    expect(await several.call('GET /api/ably/stats')).toMatchObject({
      status: 400,
      body: { error: 'bad_request', message: expect.stringContaining('several Ably sources are configured (ably-eu, ably-us)') },
    });
    expect((await several.call('GET /api/ably/stats', { query: { source: 'ably-us' } })).status).toBe(200);
    const none = setup([demoSource]);
    expect(await none.call('GET /api/ably/messages')).toMatchObject({ status: 404, body: { error: 'not_found', message: expect.stringContaining('no Ably source is configured') } });
  });

  it('answers the stats document from the counters and the newest run of the source', async () => {
    const { call, messageLog, syncState } = setup();
    await messageLog.record(logged('s1', at('2026-11-23T09:00:00.000Z')), 0);
    await messageLog.record(logged('s2', at('2026-11-23T09:30:00.000Z')), 0);
    await messageLog.record(logged('c1', at('2026-11-23T09:10:00.000Z'), { channel: 'smartadmin-control-1', direction: 'sent' }), 0);
    await messageLog.record(logged('c1', at('2026-11-23T09:10:00.000Z'), { channel: 'smartadmin-control-1', direction: 'sent' }), 0);
    const response = await call('GET /api/ably/stats');
    expect(response).toMatchObject({ status: 200 });
    expect(response.body).toEqual({
      source: 'ably',
      totalMessages: 3,
      lastMessageAt: '2026-11-23T09:30:00.000Z',
      byChannel: { 'smartadmin-control-1': 1, 'smartadmin-status': 2 },
      byDirection: { received: 2, sent: 1 },
      lastSync: { runId: 'run_3', finishedAt: '2026-11-23T11:00:00.000Z', outcome: 'partial', stored: 4, duplicates: 1, errors: 1 },
    });
    expect(syncState.asked).toEqual([{ source: 'ably', limit: 1 }]);
    expect((await call('GET /api/ably/stats', { query: { limit: '1' } })).status).toBe(400);
  });

  it('runs a manual sync with the channels and since given, and answers the run whatever its outcome', async () => {
    const { call, runSync } = setup();
    const response = await call('POST /api/sync/ably', { body: JSON.stringify({ channels: ['smartadmin-status', 'smartadmin-control-1'], since: '2026-11-23T08:00:00Z' }) });
    expect(runSync).toHaveBeenLastCalledWith({ sourceId: 'ably', channels: ['smartadmin-status', 'smartadmin-control-1'], sinceMs: at('2026-11-23T08:00:00Z') });
    expect(response).toEqual({ status: 200, body: { ...syncRun({ runId: 'run_manual' }) }, headers: expect.any(Object) });

    expect((await call('POST /api/sync/ably')).status).toBe(200);
    expect(runSync).toHaveBeenLastCalledWith({ sourceId: 'ably' });
    expect((await call('POST /api/sync/ably', { body: JSON.stringify({ since: 1795428000000, source: 'ably' }) })).status).toBe(200);
    expect(runSync).toHaveBeenLastCalledWith({ sourceId: 'ably', sinceMs: 1795428000000 });

    runSync.mockResolvedValueOnce(syncRun({ outcome: 'failed', errors: ['40101 invalid credentials'], stored: 0 }));
    expect(await call('POST /api/sync/ably', { body: '{}' })).toMatchObject({ status: 200, body: { outcome: 'failed', errors: ['40101 invalid credentials'] } });
  });

  it('refuses a sync body it cannot carry out with a 400 naming the field, without syncing', async () => {
    const { call, runSync } = setup();
    const cases: [string, RegExp][] = [
      ['{not json', /^the body is not valid JSON$/],
      ['[]', /^the body must be a JSON object/],
      ['{"channels":"smartadmin-status"}', /^channels: must be an array of 1 to 100 channel names/],
      ['{"channels":["ok",""]}', /^channels\[1\]: must be a channel name of 1 to 200 characters$/],
      ['{"since":"whenever"}', /^since: must be an ISO 8601 time/],
      ['{"channel":["a"]}', /^unknown field 'channel'/],
    ];
    for (const [body, message] of cases) {
      const response = await call('POST /api/sync/ably', { body });
      expect({ body, status: response.status, answer: response.body }).toEqual({ body, status: 400, answer: { error: 'bad_request', message: expect.stringMatching(message) } });
    }
    expect((await call('POST /api/sync/ably', { body: '{"source":"elsewhere"}' })).status).toBe(404);
    expect(runSync).not.toHaveBeenCalled();
  });

  it('lists recent runs, 20 by default, of one source or all', async () => {
    const { call, syncState } = setup();
    const all = await call('GET /api/sync/runs');
    expect(all.status).toBe(200);
    expect((all.body!.runs as SyncRun[]).map((run) => run.runId)).toEqual(['run_3', 'run_2', 'run_1']);
    expect((all.body!.runs as SyncRun[])[0]).toEqual(syncState.runs[0]);
    const one = await call('GET /api/sync/runs', { query: { source: 'ably', limit: '1' } });
    expect((one.body!.runs as SyncRun[]).map((run) => run.runId)).toEqual(['run_3']);
    expect(syncState.asked).toEqual([{ limit: 20 }, { source: 'ably', limit: 1 }]);
    expect(await call('GET /api/sync/runs', { query: { limit: '101' } })).toMatchObject({ status: 400, body: { message: 'limit: must be an integer from 1 to 100' } });
  });

  it('answers 404 for a route key it does not serve', async () => {
    const { call } = setup();
    expect(await call('GET /api/events')).toMatchObject({ status: 404, body: { error: 'not_found', message: 'no route GET /api/events' } });
  });
});

describe('http-ably-api module wiring', () => {
  it('runs the exported handler’s manual sync with trigger manual and a 25 s limit, for the configured source', async () => {
    const previousSources = process.env.HOOKHUB_SOURCES;
    process.env.HOOKHUB_SOURCES = JSON.stringify({ sources: [demoSource, ablySource('ably')] });
    try {
      type AblyApiModule = typeof import('../../../lambdas/handlers/http-ably-api');
      let exported: AblyApiModule | undefined;
      // A fresh copy of the module, so its wiring reads the sources set above (as a cold start would).
      jest.isolateModules(() => {
        exported = jest.requireActual<AblyApiModule>('../../../lambdas/handlers/http-ably-api');
      });
      wiredContext.runSync.mockResolvedValueOnce(syncRun({ runId: 'run_wired' }));
      const { call } = setup();
      const response = await call('POST /api/sync/ably', { body: '{"channels":["smartadmin-status"]}', handle: exported!.handler });
      expect(response).toMatchObject({ status: 200, body: { runId: 'run_wired' } });
      expect(wiredContext.runSync).toHaveBeenCalledWith({ sourceId: 'ably', channels: ['smartadmin-status'], trigger: 'manual', timeLimitMs: 25_000 });
    } finally {
      process.env.HOOKHUB_SOURCES = previousSources;
    }
  });
});
