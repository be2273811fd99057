/**
 * Outbound webhooks end to end through the local runtime: the management API creates endpoints and publishes
 * messages, the delivery worker (its own thread, real SQS and DynamoDB clients against the stand-ins) sends them to
 * a loopback receiver that verifies every request with the official `standardwebhooks` library (and once `svix`).
 * Retry schedules are overridden with 1-second steps so the scenarios run in seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook as SvixWebhook } from 'svix';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import type { LocalRuntime } from '../../lib/local/local-runtime';
import { startTestRuntime } from '../fixtures/test-runtime';
import { connectRealtime, managementClient, postHook, waitUntil, type RealtimeClient } from '../fixtures/local-clients';
import { DEMO_SECRET, standardWebhookHeaders } from '../fixtures/sources';
import { WebhookReceiver } from '../fixtures/webhook-receiver';

const ADMIN_KEY = 'outbound-test-admin-key-0123456789';
const config = parseHookhubConfig({
  sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_DEMO_SECRET' } }],
  eventTypes: [{ name: 'project.created', description: 'A project was created', example: { projectId: 'p_1' } }],
});

let dataDir: string;
let runtime: LocalRuntime;
let receiver: WebhookReceiver;
let api: ReturnType<typeof managementClient>;
let ops: RealtimeClient;

beforeAll(async () => {
  process.env.HOOKHUB_DEMO_SECRET = DEMO_SECRET;
  dataDir = mkdtempSync(join(tmpdir(), 'hookhub-outbound-'));
  receiver = new WebhookReceiver();
  await receiver.listen();
  runtime = await startTestRuntime({
    config,
    dataDir,
    adminKey: ADMIN_KEY,
    // A short timeout keeps the timeout scenario quick. The endpoint cache is the default (1 s), as users run it.
    outbound: { timeoutMs: 1_000 },
  });
  api = managementClient(runtime.httpUrl, ADMIN_KEY);
  ops = await connectRealtime(runtime.wsUrl, ADMIN_KEY, 'ops');
}, 60_000);

afterAll(async () => {
  await ops?.close();
  await runtime?.stop();
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface CreatedEndpoint {
  id: string;
  secret: string;
  url: string;
  disabled: boolean;
}

async function createEndpoint(path: string, settings: Record<string, unknown> = {}): Promise<CreatedEndpoint> {
  const created = await api<CreatedEndpoint>('POST', '/api/endpoints', { url: receiver.url(path), ...settings });
  expect(created.status).toBe(201);
  receiver.setSecrets(path, [created.body.secret]);
  return created.body;
}

async function publish(eventType: string, payload: unknown, headers: Record<string, string> = {}): Promise<string> {
  const published = await api<{ id: string }>('POST', '/api/messages', { eventType, payload }, headers);
  expect(published.status).toBe(202);
  return published.body.id;
}

const opsEvents = (type: string) => ops.messages.filter((message) => (message.event as unknown as { type: string } | undefined)?.type === type);

it('delivers a published message once to every matching endpoint, signed, and to no other', async () => {
  const wildcard = await createEndpoint('/match/wildcard', { eventTypes: ['project.*'] });
  const exact = await createEndpoint('/match/exact', { eventTypes: ['project.created'] });
  await createEndpoint('/match/other-type', { eventTypes: ['invoice.paid'] });
  await createEndpoint('/match/other-source', { sources: ['demo'] });

  const id = await publish('project.created', { projectId: 'p_42' });
  await waitUntil(async () => receiver.at('/match/wildcard').length === 1 && receiver.at('/match/exact').length === 1, 15_000, 'both deliveries');
  // A later message to the non-matching endpoint: once it arrived, an earlier misdelivery would have too.
  await publish('invoice.paid', { invoiceId: 'i_1' });
  await waitUntil(async () => receiver.at('/match/other-type').length === 1, 15_000, 'the invoice delivery');

  for (const path of ['/match/wildcard', '/match/exact']) {
    const [delivery] = receiver.at(path);
    expect(delivery!.headers['webhook-id']).toBe(id);
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(delivery!.headers['user-agent']).toMatch(/hookhub/);
    expect(JSON.parse(delivery!.body)).toEqual({ projectId: 'p_42' });
    expect(delivery!.verifiedWith).toEqual([true]);
  }
  expect(receiver.at('/match/other-type').map((delivery) => delivery.headers['webhook-id'])).not.toContain(id);
  expect(receiver.at('/match/other-source')).toHaveLength(0);

  const deliveries = await api<{ deliveries: Array<{ messageId: string; status: string }> }>('GET', `/api/endpoints/${exact.id}/deliveries`);
  expect(deliveries.body.deliveries).toEqual([expect.objectContaining({ messageId: id, status: 'succeeded' })]);
  const catalog = await api<{ eventTypes: Array<{ name: string; declared: boolean; description?: string }> }>('GET', '/api/event-types');
  expect(catalog.body.eventTypes).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'project.created', declared: true, description: 'A project was created' }),
      expect.objectContaining({ name: 'invoice.paid', declared: false }),
    ]),
  );
  await api('DELETE', `/api/endpoints/${wildcard.id}`);
});

it('verifies with svix too, and custom headers arrive while the attempt log redacts them', async () => {
  const endpoint = await createEndpoint('/svix', { eventTypes: ['svix.check'], headers: { 'x-tenant-token': 'tenant-secret-value' } });
  const id = await publish('svix.check', { ok: true });
  const [delivery] = await waitUntil(async () => receiver.at('/svix').length === 1 && receiver.at('/svix'), 15_000, 'the delivery');
  expect(delivery!.headers['x-tenant-token']).toBe('tenant-secret-value');
  const payload = new SvixWebhook(endpoint.secret).verify(delivery!.body, {
    'svix-id': delivery!.headers['webhook-id']!,
    'svix-timestamp': delivery!.headers['webhook-timestamp']!,
    'svix-signature': delivery!.headers['webhook-signature']!,
  });
  expect(payload).toEqual({ ok: true });

  const attempts = await waitUntil(async () => {
    const page = await api<{ attempts: Array<Record<string, any>> }>('GET', `/api/endpoints/${endpoint.id}/attempts`);
    return page.body.attempts.length === 1 && page.body.attempts;
  }, 10_000, 'the attempt record');
  expect(attempts[0]).toMatchObject({ messageId: id, attemptNumber: 1, status: 'succeeded', responseStatus: 200, responseBody: 'ok' });
  expect(attempts[0]!.requestHeaders['x-tenant-token']).toBe('[redacted]');
  expect(JSON.stringify(await api('GET', `/api/endpoints/${endpoint.id}`))).not.toContain('tenant-secret-value');
  expect(JSON.stringify(await api('GET', `/api/endpoints/${endpoint.id}`))).not.toContain(endpoint.secret);
});

it('retries 500, 500, then succeeds: three attempts with the same webhook-id, all logged', async () => {
  receiver.script('/flaky', [{ status: 500 }, { status: 500 }]);
  const endpoint = await createEndpoint('/flaky', { eventTypes: ['flaky.test'], retrySchedule: [1, 1, 1] });
  const id = await publish('flaky.test', { n: 1 });
  await waitUntil(async () => receiver.at('/flaky').length === 3, 20_000, 'three tries');

  expect(new Set(receiver.at('/flaky').map((delivery) => delivery.headers['webhook-id']))).toEqual(new Set([id]));
  expect(receiver.at('/flaky').every((delivery) => delivery.verifiedWith[0])).toBe(true);
  const attempts = await waitUntil(async () => {
    const page = await api<{ attempts: Array<{ attemptNumber: number; status: string; responseStatus: number }> }>('GET', `/api/endpoints/${endpoint.id}/attempts`);
    return page.body.attempts.length === 3 && page.body.attempts;
  }, 10_000, 'three attempt records');
  expect(attempts.map((attempt) => [attempt.attemptNumber, attempt.status, attempt.responseStatus])).toEqual([
    [3, 'succeeded', 200],
    [2, 'failed', 500],
    [1, 'failed', 500],
  ]);
  const failedOnly = await api<{ attempts: unknown[] }>('GET', `/api/endpoints/${endpoint.id}/attempts?status=failed`);
  expect(failedOnly.body.attempts).toHaveLength(2);
  // Stats are added up in the worker and written within a second (stats-buffer.ts).
  const stats = await waitUntil(async () => {
    const shown = await api<Record<string, any>>('GET', `/api/endpoints/${endpoint.id}/stats`);
    return shown.body.last24h.total === 3 && shown.body;
  }, 10_000, 'the stats of three tries');
  expect(stats).toMatchObject({ last24h: { total: 3, succeeded: 1, failed: 2 }, consecutiveFailures: 0 });
  expect(stats.durationMs.p50).toEqual(expect.any(Number));
});

it('disables an endpoint that answers 410 and says so on channel ops and to endpoints subscribed to it', async () => {
  await createEndpoint('/ops-subscriber', { eventTypes: ['endpoint.disabled'] });
  // The delivery worker, which publishes the notice, sees endpoints created elsewhere within its 1 s cache.
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  receiver.script('/gone', [], { status: 410 });
  const endpoint = await createEndpoint('/gone', { eventTypes: ['gone.test'] });
  await publish('gone.test', {});
  const notice = await waitUntil(async () => opsEvents('endpoint.disabled').find((message) => (message.event as any).data.endpointId === endpoint.id), 15_000, 'endpoint.disabled');
  expect((notice.event as any).data.reason).toBe('gone');
  const delivered = await waitUntil(
    async () => receiver.at('/ops-subscriber').find((delivery) => JSON.parse(delivery.body).data.endpointId === endpoint.id),
    15_000,
    'the endpoint.disabled message',
  );
  expect(JSON.parse(delivered.body)).toMatchObject({ type: 'endpoint.disabled', data: { reason: 'gone', origin: receiver.baseUrl } });
  expect(delivered.body).not.toContain('/gone'); // the path may be a credential: notices carry the origin only
  expect(delivered.verifiedWith).toEqual([true]);
  const shown = await api<{ disabled: boolean; disabledReason: string }>('GET', `/api/endpoints/${endpoint.id}`);
  expect(shown.body).toMatchObject({ disabled: true, disabledReason: 'gone' });
  expect(receiver.at('/gone')).toHaveLength(1);
});

it('trips the circuit breaker after N failures, skips later messages, and replay sends them once re-enabled', async () => {
  receiver.script('/breaker', [], { status: 503 });
  const endpoint = await createEndpoint('/breaker', { eventTypes: ['breaker.test'], failureThreshold: 2, retrySchedule: [1] });
  const since = new Date(Date.now() - 1000).toISOString();
  await publish('breaker.test', { n: 1 });
  await waitUntil(async () => ((await api<{ disabled: boolean }>('GET', `/api/endpoints/${endpoint.id}`)).body.disabled ? true : undefined), 20_000, 'the breaker');
  expect(opsEvents('endpoint.disabled').some((message) => (message.event as any).data.endpointId === endpoint.id)).toBe(true);
  const triedBefore = receiver.at('/breaker').length;

  const later = [await publish('breaker.test', { n: 2 }), await publish('breaker.test', { n: 3 })];
  const skipped = await waitUntil(async () => {
    const page = await api<{ deliveries: Array<{ messageId: string; status: string }> }>('GET', `/api/endpoints/${endpoint.id}/deliveries`);
    const found = page.body.deliveries.filter((delivery) => later.includes(delivery.messageId) && delivery.status === 'skipped');
    return found.length === 2 && found;
  }, 15_000, 'skipped deliveries');
  expect(skipped).toHaveLength(2);
  expect(receiver.at('/breaker')).toHaveLength(triedBefore);

  expect((await api('POST', `/api/endpoints/${endpoint.id}/replay`, { since })).status).toBe(409); // still disabled
  receiver.script('/breaker', [], { status: 200 });
  expect((await api('PATCH', `/api/endpoints/${endpoint.id}`, { disabled: false })).body).toMatchObject({ disabled: false, consecutiveFailures: 0 });
  const replay = await api<{ queued: number }>('POST', `/api/endpoints/${endpoint.id}/replay`, { since });
  expect(replay.status).toBe(202);
  expect(replay.body.queued).toBe(3);
  await waitUntil(async () => {
    const ids = new Set(receiver.at('/breaker').filter((delivery) => delivery.answeredStatus === 200).map((delivery) => delivery.headers['webhook-id']));
    return later.every((id) => ids.has(id)) && ids.size === 3;
  }, 15_000, 'replayed deliveries');
  const audit = await api<{ records: Array<{ action: string; target: string; actor: string }> }>('GET', '/api/audit');
  expect(audit.body.records.map((record) => record.action)).toEqual(expect.arrayContaining(['endpoint.replay', 'endpoint.update', 'endpoint.create']));
  expect(audit.body.records[0]!.actor).toMatch(/^admin:/);
});

it('waits at least as long as Retry-After says after a 429', async () => {
  receiver.script('/throttled', [{ status: 429, headers: { 'retry-after': '3' } }]);
  await createEndpoint('/throttled', { eventTypes: ['throttle.test'], retrySchedule: [1, 1] });
  await publish('throttle.test', {});
  const [first, second] = await waitUntil(async () => receiver.at('/throttled').length === 2 && receiver.at('/throttled'), 20_000, 'the second try');
  expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(3_000);
});

it('counts a receiver that does not answer in time as a failed attempt', async () => {
  receiver.script('/slow', [{ status: 200, hang: true }]);
  const endpoint = await createEndpoint('/slow', { eventTypes: ['slow.test'], retrySchedule: [1] });
  await publish('slow.test', {});
  const attempts = await waitUntil(async () => {
    const page = await api<{ attempts: Array<{ status: string; error?: string }> }>('GET', `/api/endpoints/${endpoint.id}/attempts`);
    return page.body.attempts.length === 2 && page.body.attempts;
  }, 20_000, 'the timed-out try and its retry');
  expect(attempts[1]).toMatchObject({ status: 'failed', error: expect.stringMatching(/timed out/) });
  expect(attempts[0]).toMatchObject({ status: 'succeeded' });
});

it('holds an endpoint to its rate limit', async () => {
  const limit = 5;
  await createEndpoint('/limited', { eventTypes: ['limited.test'], rateLimitPerSecond: limit });
  await Promise.all(Array.from({ length: 20 }, (_, n) => publish('limited.test', { n })));
  await waitUntil(async () => receiver.at('/limited').length === 20, 30_000, 'twenty deliveries');
  const perSecond = new Map<string, number>();
  for (const delivery of receiver.at('/limited')) {
    const second = delivery.headers['webhook-timestamp']!;
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  // The window is the signing second: no second carries more than the limit, so 20 take at least 4 seconds.
  expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(limit);
  expect(perSecond.size).toBeGreaterThanOrEqual(20 / limit);
});

it('signs with both secrets for a day after a rotation', async () => {
  const endpoint = await createEndpoint('/rotated', { eventTypes: ['rotation.test'] });
  const rotated = await api<{ secret: string; previousSecretExpiresAt: string }>('POST', `/api/endpoints/${endpoint.id}/rotate-secret`);
  expect(rotated.status).toBe(200);
  expect(rotated.body.secret).toMatch(/^whsec_/);
  expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
  receiver.setSecrets('/rotated', [endpoint.secret, rotated.body.secret]);
  await publish('rotation.test', {});
  const [delivery] = await waitUntil(async () => receiver.at('/rotated').length === 1 && receiver.at('/rotated'), 15_000, 'the delivery');
  expect(delivery!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
  expect(delivery!.verifiedWith).toEqual([true, true]);
});

it('answers the first message id for a repeated idempotency key', async () => {
  await createEndpoint('/idempotent', { eventTypes: ['idempotent.test'] });
  const first = await publish('idempotent.test', { n: 1 }, { 'idempotency-key': 'order-7-created' });
  const second = await api<{ id: string; repeated?: boolean }>('POST', '/api/messages', { eventType: 'idempotent.test', payload: { n: 1 }, idempotencyKey: 'order-7-created' });
  expect(second.status).toBe(202);
  expect(second.body).toEqual({ id: first, repeated: true });
  await waitUntil(async () => receiver.at('/idempotent').length === 1, 15_000, 'the delivery');
  // The message record is written with the first try's records, just after the receiver answered.
  const message = await waitUntil(async () => {
    const shown = await api<{ id: string }>('GET', `/api/messages/${first}`);
    return shown.status === 200 && shown.body;
  }, 10_000, 'the message record');
  expect(message).toMatchObject({ id: first, eventType: 'idempotent.test', payload: { n: 1 } });
});

it('sends a test event now and answers the attempt; retries one attempt on request', async () => {
  receiver.script('/tested', [{ status: 503, body: 'down for maintenance' }]);
  const endpoint = await createEndpoint('/tested', { eventTypes: ['nothing.published'] });
  const tested = await api<Record<string, any>>('POST', `/api/endpoints/${endpoint.id}/test`);
  expect(tested.status).toBe(200);
  expect(tested.body).toMatchObject({ status: 'failed', responseStatus: 503, responseBody: 'down for maintenance', trigger: 'test' });
  expect(JSON.parse(receiver.at('/tested')[0]!.body)).toMatchObject({ type: 'webhook.test' });

  const retried = await api<{ queued: number }>('POST', `/api/attempts/${tested.body.id}/retry`);
  expect(retried.status).toBe(202);
  await waitUntil(async () => receiver.at('/tested').length === 2, 15_000, 'the manual retry');
  expect(receiver.at('/tested')[1]!.headers['webhook-id']).toBe(receiver.at('/tested')[0]!.headers['webhook-id']);
});

it('retry-failed sends each exhausted delivery once more; a retry of one still on its schedule is refused', async () => {
  receiver.script('/exhausted', [{ status: 500 }, { status: 500 }]);
  const endpoint = await createEndpoint('/exhausted', { eventTypes: ['exhausted.test'], retrySchedule: [1] });
  const id = await publish('exhausted.test', {});
  await waitUntil(async () => {
    const page = await api<{ deliveries: Array<{ status: string }> }>('GET', `/api/endpoints/${endpoint.id}/deliveries`);
    return page.body.deliveries[0]?.status === 'exhausted';
  }, 15_000, 'the exhausted delivery');
  expect(opsEvents('message.attempt.exhausted').some((message) => (message.event as any).data.messageId === id)).toBe(true);

  const retried = await api<{ queued: number; missing: number }>('POST', `/api/endpoints/${endpoint.id}/retry-failed`);
  expect(retried).toEqual({ status: 202, body: { queued: 1, missing: 0, truncated: false } });
  await waitUntil(async () => receiver.at('/exhausted').length === 3, 15_000, 'the retried try');
  expect(receiver.at('/exhausted')[2]!.headers['webhook-id']).toBe(id);
  const settled = await waitUntil(async () => {
    const page = await api<{ deliveries: Array<{ status: string; attempts: number }> }>('GET', `/api/endpoints/${endpoint.id}/deliveries`);
    return page.body.deliveries[0]?.status === 'succeeded' && page.body.deliveries[0];
  }, 15_000, 'the delivery to succeed');
  expect(settled.attempts).toBe(3);

  receiver.script('/scheduled', [{ status: 500 }]);
  const scheduled = await createEndpoint('/scheduled', { eventTypes: ['scheduled.test'], retrySchedule: [60] });
  await publish('scheduled.test', {});
  const attempt = await waitUntil(async () => {
    const page = await api<{ attempts: Array<{ id: string }> }>('GET', `/api/endpoints/${scheduled.id}/attempts`);
    return page.body.attempts[0];
  }, 15_000, 'the first failed try');
  expect((await api('POST', `/api/attempts/${attempt.id}/retry`)).status).toBe(409);
});

it('removes a setting with null, deletes an endpoint, and says both on ops and in the audit log', async () => {
  const endpoint = await createEndpoint('/lifecycle', { eventTypes: ['lifecycle.test'], rateLimitPerSecond: 5, description: 'first' });
  const changed = await api<Record<string, unknown>>('PATCH', `/api/endpoints/${endpoint.id}`, { rateLimitPerSecond: null, description: 'second' });
  expect(changed.status).toBe(200);
  expect(changed.body).toMatchObject({ description: 'second' });
  expect(changed.body).not.toHaveProperty('rateLimitPerSecond');
  expect((await api('DELETE', `/api/endpoints/${endpoint.id}`)).status).toBe(204);
  expect((await api('GET', `/api/endpoints/${endpoint.id}`)).status).toBe(404);
  expect((await api('DELETE', `/api/endpoints/${endpoint.id}`)).status).toBe(404);
  await waitUntil(async () => opsEvents('endpoint.deleted').some((message) => (message.event as any).data.endpointId === endpoint.id), 10_000, 'endpoint.deleted');
  const audit = await api<{ records: Array<{ action: string; target: string; sourceIp?: string; userAgent?: string }> }>('GET', '/api/audit?limit=100');
  const mine = audit.body.records.filter((record) => record.target === `endpoint:${endpoint.id}`);
  expect(mine.map((record) => record.action)).toEqual(['endpoint.delete', 'endpoint.update', 'endpoint.create']);
  expect(mine[0]).toMatchObject({ sourceIp: '127.0.0.1', userAgent: expect.any(String) });
});

it('publishes processed inbound events as {source}.{type} messages', async () => {
  await createEndpoint('/inbound', { eventTypes: ['demo.*'] });
  const body = JSON.stringify({ type: 'order.paid', amount: 12 });
  const accepted = await postHook(runtime.httpUrl, 'demo', body, standardWebhookHeaders(DEMO_SECRET, 'msg_inbound_1', body));
  expect(accepted.status).toBe(202);
  const [delivery] = await waitUntil(async () => receiver.at('/inbound').length === 1 && receiver.at('/inbound'), 15_000, 'the republished event');
  expect(JSON.parse(delivery!.body)).toMatchObject({ type: 'demo.order.paid', data: { eventId: accepted.body.ids![0], payload: { type: 'order.paid', amount: 12 } } });
  expect(delivery!.verifiedWith).toEqual([true]);
});

it('refuses bad input with a 400 naming the field, and unknown ids with 404', async () => {
  const bad = await api<{ error: string; message: string }>('POST', '/api/endpoints', { url: 'ftp://example.com/hook' });
  expect(bad.status).toBe(400);
  expect(bad.body.message).toMatch(/url/);
  expect((await api('POST', '/api/endpoints', '{not json')).status).toBe(400);
  expect((await api('POST', '/api/endpoints', { url: receiver.url('/x'), retrySchedule: [0] })).status).toBe(400);
  expect((await api('POST', '/api/messages', { eventType: 'bad type!', payload: {} })).status).toBe(400);
  expect((await api('POST', '/api/messages', { eventType: 'big.one', payload: 'x'.repeat(300 * 1024) })).status).toBe(413);
  expect((await api('GET', '/api/endpoints/ep_nope')).status).toBe(404);
  expect((await api('PATCH', '/api/endpoints/ep_01JAAAAAAAAAAAAAAAAAAAAAAA', { description: 'x' })).status).toBe(404);
  expect((await fetch(`${runtime.httpUrl}/api/endpoints`)).status).toBe(401);
});
