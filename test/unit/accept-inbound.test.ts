import { acceptInbound, MAX_QUEUE_MESSAGE_BYTES } from '../../lambdas/core/events/accept-inbound';
import { HookhubError } from '../../lambdas/core/errors';
import { eventIdFor } from '../../lambdas/core/events/event-id';
import { DEMO_SECRET, source, standardWebhookHeaders } from '../fixtures/sources';

const demo = source({ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'X' } });
const tokenSource = source({
  id: 'crm',
  verification: { scheme: 'token', header: 'X-Hook-Token' },
  secret: { env: 'X' },
  eventId: { field: 'data.id' },
  eventType: { header: 'X-Event' },
  channel: { field: 'data.room' },
});

function accept(definition = demo, overrides: { method?: string; headers?: Record<string, string>; body?: string | Buffer; secrets?: string[]; maxBodyBytes?: number } = {}) {
  const body = overrides.body ?? '{"type":"user.created","id":1}';
  const headers = overrides.headers ?? standardWebhookHeaders(DEMO_SECRET, 'msg_1', body.toString());
  return acceptInbound({
    source: definition,
    request: { method: overrides.method ?? 'POST', headers, rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body), receivedAt: new Date(), requestId: 'req-1' },
    secrets: overrides.secrets ?? [DEMO_SECRET],
    maxBodyBytes: overrides.maxBodyBytes ?? 1024,
  });
}

function statusOf(run: () => unknown): [number, string] | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof HookhubError) return [error.statusCode, error.code];
    throw error;
  }
}

describe('acceptInbound', () => {
  it('turns a verified Standard Webhooks request into one queued event keyed by webhook-id', () => {
    const [event] = accept();
    expect(event).toMatchObject({
      version: 1,
      id: eventIdFor('demo', 'msg_1'),
      source: 'demo',
      providerEventId: 'msg_1',
      type: 'user.created',
      channel: 'demo',
      requestId: 'req-1',
      payloadFormat: 'json',
      body: '{"type":"user.created","id":1}',
    });
  });

  it('gives the same provider event the same id, and different sources different ids', () => {
    expect(accept()[0]!.id).toBe(accept()[0]!.id);
    expect(eventIdFor('a', 'msg_1')).not.toBe(eventIdFor('b', 'msg_1'));
  });

  it('never queues credentials: signature and token headers are dropped', () => {
    const [event] = accept(tokenSource, {
      headers: { 'x-hook-token': 'secret-token', 'x-event': 'deal.won', authorization: 'Bearer abc', cookie: 'a=b', 'x-request-id': 'r' },
      body: '{"data":{"id":"deal_9","room":"sales:eu"}}',
      secrets: ['secret-token'],
    });
    expect(event!.headers).toEqual({ 'x-event': 'deal.won', 'x-request-id': 'r' });
    const [github] = accept(tokenSource, {
      headers: { 'x-hook-token': 't', 'x-hub-signature': 'sha1=abc', 'x-hub-signature-256': 'sha256=def', 'x-api-key': 'k', 'x-github-event': 'push' },
      body: '{"data":{"id":"1"}}',
      secrets: ['t'],
    });
    expect(github!.headers).toEqual({ 'x-github-event': 'push' });
    expect(accept()[0]!.headers['webhook-signature']).toBeUndefined();
  });

  it('reads id, type and channel from the configured header and fields', () => {
    const [event] = accept(tokenSource, {
      headers: { 'x-hook-token': 't', 'x-event': 'deal.won' },
      body: '{"data":{"id":"deal_9","room":"sales:eu"}}',
      secrets: ['t'],
    });
    expect(event).toMatchObject({ providerEventId: 'deal_9', type: 'deal.won', channel: 'sales:eu' });
  });

  it('falls back to a content hash id and the source channel when the payload lacks them', () => {
    const run = (body: string) => accept(tokenSource, { headers: { 'x-hook-token': 't' }, body, secrets: ['t'] })[0]!;
    const first = run('{"data":{"room":"no spaces allowed"}}');
    expect(first.providerEventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.channel).toBe('crm');
    expect(first.type).toBe('webhook');
    expect(run('{"data":{"room":"no spaces allowed"}}').id).toBe(first.id);
    expect(run('{"data":{}}').id).not.toBe(first.id);
  });

  it.each([
    ['wrong method', { method: 'GET' }, [405, 'method_not_allowed']],
    ['body over the limit', { maxBodyBytes: 10 }, [413, 'payload_too_large']],
    ['missing signature', { headers: { 'content-type': 'application/json' } }, [401, 'missing_signature']],
    ['wrong secret', { secrets: ['whsec_' + Buffer.from('another secret entirely').toString('base64')] }, [401, 'invalid_signature']],
  ] as const)('refuses %s', (_case, overrides, expected) => {
    expect(statusOf(() => accept(demo, overrides as never))).toEqual(expected);
  });

  it('refuses a stale timestamp', () => {
    const body = '{}';
    const headers = standardWebhookHeaders(DEMO_SECRET, 'msg_old', body, new Date(Date.now() - 301_000));
    expect(statusOf(() => accept(demo, { headers, body }))).toEqual([401, 'stale_timestamp']);
  });

  it('never echoes the body in the malformed-JSON message (it reaches logs)', () => {
    const body = '{"password": "hunter2" oops';
    try {
      accept(demo, { body, headers: standardWebhookHeaders(DEMO_SECRET, 'm', body) });
      throw new Error('accepted');
    } catch (error) {
      expect((error as Error).message).toBe('body is not valid JSON');
    }
  });

  it('refuses malformed JSON on a JSON source only after the signature is good', () => {
    const body = '{"unterminated": ';
    expect(statusOf(() => accept(demo, { body, headers: standardWebhookHeaders(DEMO_SECRET, 'm', body) }))).toEqual([400, 'malformed_payload']);
    expect(statusOf(() => accept(demo, { body, headers: { 'content-type': 'application/json' } }))).toEqual([401, 'missing_signature']);
  });

  it('keeps non-UTF-8 bodies of an `any` source as base64', () => {
    const binary = source({ id: 'files', verification: { scheme: 'token', header: 'x-token' }, secret: { env: 'X' }, contentType: 'any' });
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const [event] = accept(binary, { headers: { 'x-token': 't' }, body: bytes, secrets: ['t'] });
    expect(event).toMatchObject({ payloadFormat: 'base64', body: bytes.toString('base64') });
  });

  it('refuses a queued message that would exceed the SQS limit even when the body fits its own limit', () => {
    const body = JSON.stringify({ text: '"'.repeat(100_000) }); // escaped again inside the queued JSON, it doubles
    const headers = standardWebhookHeaders(DEMO_SECRET, 'big', body);
    expect(body.length).toBeLessThan(MAX_QUEUE_MESSAGE_BYTES);
    expect(statusOf(() => accept(demo, { body, headers, maxBodyBytes: MAX_QUEUE_MESSAGE_BYTES }))).toEqual([413, 'payload_too_large']);
  });
});
