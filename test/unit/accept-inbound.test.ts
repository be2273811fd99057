import { acceptInbound } from '../../lambdas/core/events/accept-inbound';
import { HookhubError } from '../../lambdas/core/errors';
import { eventIdFor } from '../../lambdas/core/events/event-id';
import { decodePayload } from '../../lambdas/core/events/inbound-event';
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

let secretLoads = 0;

function accept(definition = demo, overrides: { method?: string; headers?: Record<string, string>; body?: string | Buffer; secrets?: string[]; maxBodyBytes?: number } = {}) {
  const body = overrides.body ?? '{"type":"user.created","id":1}';
  const headers = overrides.headers ?? standardWebhookHeaders(DEMO_SECRET, 'msg_1', body.toString());
  return acceptInbound({
    source: definition,
    request: { method: overrides.method ?? 'POST', headers, rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body), receivedAt: new Date(), requestId: 'req-1' },
    loadSecrets: async () => {
      secretLoads++;
      return overrides.secrets ?? [DEMO_SECRET];
    },
    maxBodyBytes: overrides.maxBodyBytes ?? 1024,
  });
}

async function statusOf(run: () => Promise<unknown>): Promise<[number, string] | 'accepted'> {
  try {
    await run();
    return 'accepted';
  } catch (error) {
    if (error instanceof HookhubError) return [error.statusCode, error.code];
    throw error;
  }
}

describe('acceptInbound', () => {
  it('turns a verified Standard Webhooks request into one queued event keyed by webhook-id', async () => {
    const [event] = await accept();
    expect(event).toMatchObject({
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

  it('gives the same provider event the same id, and different sources different ids', async () => {
    expect((await accept())[0]!.id).toBe((await accept())[0]!.id);
    expect(eventIdFor('a', 'msg_1')).not.toBe(eventIdFor('b', 'msg_1'));
  });

  it('never queues credentials: signature and token headers are dropped', async () => {
    const [event] = await accept(tokenSource, {
      headers: { 'x-hook-token': 'secret-token', 'x-event': 'deal.won', authorization: 'Bearer abc', cookie: 'a=b', 'x-request-id': 'r' },
      body: '{"data":{"id":"deal_9","room":"sales:eu"}}',
      secrets: ['secret-token'],
    });
    expect(event!.headers).toEqual({ 'x-event': 'deal.won', 'x-request-id': 'r' });
    const [github] = await accept(tokenSource, {
      headers: { 'x-hook-token': 't', 'x-hub-signature': 'sha1=abc', 'x-hub-signature-256': 'sha256=def', 'x-api-key': 'k', 'x-github-event': 'push' },
      body: '{"data":{"id":"1"}}',
      secrets: ['t'],
    });
    expect(github!.headers).toEqual({ 'x-github-event': 'push' });
    expect((await accept())[0]!.headers['webhook-signature']).toBeUndefined();
  });

  it('reads id, type and channel from the configured header and fields', async () => {
    const [event] = await accept(tokenSource, {
      headers: { 'x-hook-token': 't', 'x-event': 'deal.won' },
      body: '{"data":{"id":"deal_9","room":"sales:eu"}}',
      secrets: ['t'],
    });
    expect(event).toMatchObject({ providerEventId: 'deal_9', type: 'deal.won', channel: 'sales:eu' });
  });

  it('falls back to a content hash id and the source channel when the payload lacks them', async () => {
    const run = async (body: string) => (await accept(tokenSource, { headers: { 'x-hook-token': 't' }, body, secrets: ['t'] }))[0]!;
    const first = await run('{"data":{"room":"no spaces allowed"}}');
    expect(first.providerEventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.channel).toBe('crm');
    expect(first.type).toBe('webhook');
    expect((await run('{"data":{"room":"no spaces allowed"}}')).id).toBe(first.id);
    expect((await run('{"data":{}}')).id).not.toBe(first.id);
  });

  it.each([
    ['wrong method', { method: 'GET' }, [405, 'method_not_allowed']],
    ['body over the limit', { maxBodyBytes: 10 }, [413, 'payload_too_large']],
    ['missing signature', { headers: { 'content-type': 'application/json' } }, [401, 'missing_signature']],
    ['wrong secret', { secrets: ['whsec_' + Buffer.from('another secret entirely').toString('base64')] }, [401, 'invalid_signature']],
  ] as const)('refuses %s', async (_case, overrides, expected) => {
    expect(await statusOf(() => accept(demo, overrides as never))).toEqual(expected);
  });

  it('refuses a stale timestamp', async () => {
    const body = '{}';
    const headers = standardWebhookHeaders(DEMO_SECRET, 'msg_old', body, new Date(Date.now() - 301_000));
    expect(await statusOf(() => accept(demo, { headers, body }))).toEqual([401, 'stale_timestamp']);
  });

  it('never echoes the body in the malformed-JSON message (it reaches logs)', async () => {
    const body = '{"password": "hunter2" oops';
    try {
      await accept(demo, { body, headers: standardWebhookHeaders(DEMO_SECRET, 'm', body) });
      throw new Error('accepted');
    } catch (error) {
      expect((error as Error).message).toBe('body is not valid JSON');
    }
  });

  it('refuses malformed JSON on a JSON source only after the signature is good', async () => {
    const body = '{"unterminated": ';
    expect(await statusOf(() => accept(demo, { body, headers: standardWebhookHeaders(DEMO_SECRET, 'm', body) }))).toEqual([400, 'malformed_payload']);
    expect(await statusOf(() => accept(demo, { body, headers: { 'content-type': 'application/json' } }))).toEqual([401, 'missing_signature']);
  });

  it('refuses JSON nested deeper than the limit with a 400 naming it; brackets inside strings do not count', async () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const signed = (body: string) => accept(demo, { body, headers: standardWebhookHeaders(DEMO_SECRET, 'm', body), maxBodyBytes: 300_000 });
    await expect(signed(nested(129))).rejects.toMatchObject({ statusCode: 400, code: 'nesting_too_deep', message: expect.stringContaining('128') });
    await expect(signed(nested(100_000))).rejects.toMatchObject({ code: 'nesting_too_deep' });
    expect(await statusOf(() => signed(nested(128)))).toBe('accepted');
    expect(await statusOf(() => signed(JSON.stringify({ text: '['.repeat(10_000) })))).toBe('accepted');
  });

  it('bounds an id and a type read from the payload, so a long one cannot make the event too large to store', async () => {
    const long = 'x'.repeat(200_000);
    const run = async (id: string) =>
      (await accept(tokenSource, { headers: { 'x-hook-token': 't', 'x-event': `\u{1F600}${long}` }, body: JSON.stringify({ data: { id } }), secrets: ['t'], maxBodyBytes: 300_000 }))[0]!;
    const [first, again, other] = [await run(long), await run(long), await run(`${long}y`)];
    expect(first.providerEventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);
    expect(Array.from(first.type)).toHaveLength(256);
    expect(first.type.startsWith('\u{1F600}x')).toBe(true);
  });

  it('keeps non-UTF-8 bodies of an `any` source as base64', async () => {
    const binary = source({ id: 'files', verification: { scheme: 'token', header: 'x-token' }, secret: { env: 'X' }, contentType: 'any' });
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const [event] = await accept(binary, { headers: { 'x-token': 't' }, body: bytes, secrets: ['t'] });
    expect(event).toMatchObject({ payloadFormat: 'base64', body: bytes.toString('base64') });
  });

  it('replaces half a surrogate pair in a type or id with U+FFFD (DynamoDB stores only well-formed UTF-8) and bounds a long webhook-id', async () => {
    const body = '{"type":"\\ud800x","data":{"id":"a\\udc00"}}';
    const [event] = await accept(demo, { body });
    expect(event!.type).toBe('\uFFFDx');
    expect(event!.body).toBe(body);
    const fromField = source({ id: 'crm', verification: { scheme: 'token', header: 'x-token' }, secret: { env: 'X' }, eventId: { field: 'data.id' } });
    const [tokenEvent] = await accept(fromField, { headers: { 'x-token': 't' }, body, secrets: ['t'] });
    expect(tokenEvent!.providerEventId).toBe('a\uFFFD');

    const longId = `msg_${'x'.repeat(400)}`;
    const [longEvent] = await accept(demo, { headers: standardWebhookHeaders(DEMO_SECRET, longId, '{"type":"t"}'), body: '{"type":"t"}' });
    expect(longEvent!.providerEventId.length).toBeLessThanOrEqual(256);
    expect(longEvent!.providerEventId).toMatch(/^sha256:/);
  });

  it('keeps a leading byte-order mark in the stored body (it was signed) and still parses the JSON', async () => {
    const json = '\uFEFF{"type":"with.bom","n":1}';
    const [event] = await accept(demo, { body: json });
    expect(event).toMatchObject({ body: json, type: 'with.bom', payloadFormat: 'json' });
    expect(Buffer.from(event!.body, 'utf8')).toEqual(Buffer.from(json, 'utf8'));
    expect(decodePayload(event!)).toEqual({ type: 'with.bom', n: 1 });

    const text = source({ id: 'notes', verification: { scheme: 'token', header: 'x-token' }, secret: { env: 'X' }, contentType: 'any' });
    const [note] = await accept(text, { headers: { 'x-token': 't' }, body: '\uFEFFplain text', secrets: ['t'] });
    expect(note).toMatchObject({ payloadFormat: 'text', body: '\uFEFFplain text' });
  });

  it('loads no secret for a request the method or size check already refuses', async () => {
    secretLoads = 0;
    await statusOf(() => accept(demo, { method: 'GET' }));
    await statusOf(() => accept(demo, { maxBodyBytes: 10 }));
    expect(secretLoads).toBe(0);
    await accept();
    expect(secretLoads).toBe(1);
  });
});
