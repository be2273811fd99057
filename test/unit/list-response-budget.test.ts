import { TEST_ADMIN_KEY } from '../fixtures/handler-environment';
import { Logger } from '@aws-lambda-powertools/logger';
import { buildHandler } from '../../lambdas/handlers/http-read-api';
import { digestAdminKey } from '../../lambdas/core/auth/admin-key';
import type { StoredEvent } from '../../lambdas/core/events/inbound-event';
import { fitToResponseBudget } from '../../lambdas/core/events/list-response-budget';
import { InMemoryEventStore } from '../fixtures/in-memory-event-store';
import { context, httpEvent } from '../fixtures/api-gateway-events';

const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1000 * 1000;

function largeEvent(index: number): StoredEvent {
  return {
    id: `evt_${String(index).padStart(32, '0')}`,
    source: 'demo',
    providerEventId: `p${index}`,
    type: 'large',
    channel: 'demo',
    receivedAt: new Date(Date.UTC(2026, 10, 23, 10, 0, index)).toISOString(),
    requestId: 'r',
    // Headers as large as API Gateway passes (10 KiB), so the metadata alone is a real share of the response.
    headers: Object.fromEntries(Array.from({ length: 10 }, (_, header) => [`x-large-${header}`, 'h'.repeat(1000)])),
    body: JSON.stringify({ index, filler: 'x'.repeat(250 * 1024) }),
    payloadFormat: 'json',
    status: 'processed',
    attempts: 1,
    duplicates: 0,
    ownerMessageId: 'm',
    storedAt: '',
    expiresAt: 0,
  } as StoredEvent;
}

describe('list response budget', () => {
  it('keeps payloads newest first until the budget is spent, then lists the rest with the path to fetch them', () => {
    const events = [0, 1, 2].map((index) => ({ id: `evt_${index}`, payload: { text: 'y'.repeat(1000) } })) as never[];
    const listed = fitToResponseBudget(events, 2500);
    expect(listed.map((event) => 'payload' in event)).toEqual([true, true, false]);
    expect(listed[2]).toEqual({ id: 'evt_2', payloadOmitted: true, payloadPath: '/api/events/evt_2' });
  });

  it('answers a page of 100 maximum-size events with large headers within Lambda\'s response limit, and each omitted payload is served by its path', async () => {
    const store = new InMemoryEventStore();
    for (let index = 0; index < 100; index++) await store.insertIfAbsent(largeEvent(index));
    const handler = buildHandler({
      events: store,
      healthProbes: [],
      adminKey: async () => digestAdminKey(TEST_ADMIN_KEY),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const get = async (routeKey: string, options: { query?: Record<string, string>; id?: string } = {}) =>
      (await handler(
        httpEvent({ method: 'GET', routeKey, query: options.query, pathParameters: options.id ? { id: options.id } : {}, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }),
        context,
      )) as { statusCode: number; body: string };

    const response = await get('GET /api/events', { query: { limit: '100' } });
    expect(response.statusCode).toBe(200);
    expect(Buffer.byteLength(response.body)).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    const page = JSON.parse(response.body) as { events: Array<{ id: string; payload?: { index: number }; payloadOmitted?: boolean; payloadPath?: string }> };
    expect(page.events).toHaveLength(100);
    const omitted = page.events.filter((event) => event.payloadOmitted);
    expect(omitted.length).toBeGreaterThan(0);
    expect(page.events.filter((event) => event.payload !== undefined).length).toBeGreaterThan(0);
    for (const event of omitted) {
      expect(event.payloadPath).toBe(`/api/events/${event.id}`);
      const whole = JSON.parse((await get('GET /api/events/{id}', { id: event.id })).body) as { payload: { index: number } };
      expect(whole.payload.index).toBe(Number(event.id.slice(4)));
    }
  });
});
