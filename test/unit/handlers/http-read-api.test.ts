import { TEST_ADMIN_KEY } from '../../fixtures/handler-environment';
import { Logger } from '@aws-lambda-powertools/logger';
import { buildHandler } from '../../../lambdas/handlers/http-read-api';
import { digestAdminKey } from '../../../lambdas/core/auth/admin-key';
import type { StoredEvent } from '../../../lambdas/core/events/inbound-event';
import { InMemoryEventStore } from '../../fixtures/in-memory-event-store';
import { context, httpEvent } from '../../fixtures/api-gateway-events';

const store = new InMemoryEventStore();
let queueHealthy = true;
const handler = buildHandler({
  events: store,
  healthProbes: [
    { name: 'eventStore', check: async () => ({}) },
    { name: 'inboundQueue', check: async () => { if (!queueHealthy) throw new Error('unreachable'); return { visible: 3 }; } },
  ],
  adminKey: async () => digestAdminKey(TEST_ADMIN_KEY),
  logger: new Logger({ logLevel: 'SILENT' }),
});
type Result = { statusCode: number; body: string };
const get = async (routeKey: string, options: { query?: Record<string, string>; id?: string; key?: string | null } = {}) =>
  (await handler(
    httpEvent({
      method: 'GET',
      routeKey,
      query: options.query,
      pathParameters: options.id ? { id: options.id } : {},
      headers: options.key === null ? {} : { authorization: `Bearer ${options.key ?? TEST_ADMIN_KEY}` },
    }),
    context,
  )) as Result;

beforeAll(async () => {
  for (let index = 0; index < 3; index++) {
    await store.insertIfAbsent({
      id: `evt_${String(index).padStart(32, '0')}`,
      source: 'demo',
      providerEventId: `p${index}`,
      type: 't',
      channel: 'demo',
      receivedAt: `2026-11-23T10:00:0${index}.000Z`,
      requestId: 'r',
      headers: {},
      body: `{"n":${index}}`,
      payloadFormat: 'json',
      status: index === 0 ? 'failed' : 'processed',
      attempts: 1,
      duplicates: 0,
      ownerMessageId: 'm',
      storedAt: '',
      expiresAt: 0,
    } as StoredEvent);
  }
});

describe('http-read-api handler', () => {
  it('refuses requests without the admin key', async () => {
    for (const key of [null, 'wrong-key-wrong-key']) {
      const response = await get('GET /api/events', { key });
      expect(response.statusCode).toBe(401);
      expect(JSON.parse(response.body).error).toBe('unauthorized');
    }
  });

  it('lists events newest first with a cursor, and filters by status', async () => {
    const first = JSON.parse((await get('GET /api/events', { query: { limit: '2' } })).body);
    expect(first.events.map((event: { payload: { n: number } }) => event.payload.n)).toEqual([2, 1]);
    expect(first.events[0]).not.toHaveProperty('ownerMessageId');
    const second = JSON.parse((await get('GET /api/events', { query: { limit: '2', cursor: first.cursor } })).body);
    expect(second.events.map((event: { payload: { n: number } }) => event.payload.n)).toEqual([0]);
    expect(second.cursor).toBeNull();
    const failed = JSON.parse((await get('GET /api/events', { query: { status: 'failed' } })).body);
    expect(failed.events).toHaveLength(1);
  });

  it('returns one event, 404 for an unknown or malformed id, 400 for a bad query', async () => {
    expect(JSON.parse((await get('GET /api/events/{id}', { id: `evt_${'0'.repeat(31)}1` })).body).payload).toEqual({ n: 1 });
    expect((await get('GET /api/events/{id}', { id: `evt_${'f'.repeat(32)}` })).statusCode).toBe(404);
    expect((await get('GET /api/events/{id}', { id: '../../etc' })).statusCode).toBe(404);
    expect((await get('GET /api/events', { query: { limit: '1000' } })).statusCode).toBe(400);
  });

  it('reports health per dependency and 503 when one fails', async () => {
    const healthy = await get('GET /health');
    expect(healthy.statusCode).toBe(200);
    expect(JSON.parse(healthy.body)).toEqual({ status: 'ok', checks: { eventStore: { ok: true }, inboundQueue: { ok: true, visible: 3 } } });
    queueHealthy = false;
    const degraded = await get('GET /health');
    expect(degraded.statusCode).toBe(503);
    expect(JSON.parse(degraded.body).checks.inboundQueue).toEqual({ ok: false, error: 'Error' });
  });

  it('answers the $default route 404, or 405 with Allow for a known path, without asking for the admin key', async () => {
    const unmatched = async (method: string, path: string) =>
      (await handler(httpEvent({ method, routeKey: '$default', path, pathParameters: {}, headers: {} }), context)) as Result & { headers: Record<string, string> };
    const notFound = await unmatched('GET', '/');
    expect({ status: notFound.statusCode, body: JSON.parse(notFound.body) }).toEqual({ status: 404, body: { error: 'not_found', message: 'no route for GET /' } });
    const wrongMethod = await unmatched('POST', '/api/events');
    expect({ status: wrongMethod.statusCode, allow: wrongMethod.headers.allow, error: JSON.parse(wrongMethod.body).error }).toEqual({
      status: 405,
      allow: 'GET',
      error: 'method_not_allowed',
    });
  });
});
