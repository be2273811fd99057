import { createHmac } from 'node:crypto';
import { ABLY_MAX_REQUEST_BYTES, ingestAblyRequest } from '../../../lambdas/providers/ably/ably-ingest';
import { ablyPreset } from '../../../lambdas/providers/ably/ably-preset';
import { HookhubError } from '../../../lambdas/core/errors';
import { contentHashId, eventIdFor } from '../../../lambdas/core/events/event-id';
import type { QueuedEvent } from '../../../lambdas/core/events/inbound-event';
import type { SecretReference } from '../../../lambdas/core/sources/schema-parts';
import type { IngestResult } from '../../../lambdas/providers/provider-preset';
import { source } from '../../fixtures/sources';

const KEY_SECRET = 'secretOneValue';
const SECRETS: Record<string, string[]> = {
  ABLY_API_KEY: [`appAbc.keyOne:${KEY_SECRET}`],
  ABLY_RULE_TOKEN: ['rule-token-value'],
};
const RECEIVED_AT = new Date('2026-12-01T10:00:00.000Z');

const ablySource = (options: Record<string, unknown> = {}) => source({ id: 'ably', preset: 'ably', secret: { env: 'ABLY_API_KEY' }, options });
const withToken = (options: Record<string, unknown> = {}) => ablySource({ singleModeToken: { header: 'x-rule-auth', secret: { env: 'ABLY_RULE_TOKEN' } }, ...options });

let secretLookups: SecretReference[] = [];
beforeEach(() => {
  secretLookups = [];
});

type RequestOptions = { method?: string; headers?: Record<string, string>; signed?: boolean; maxBodyBytes?: number };

function ingest(definition: ReturnType<typeof ablySource>, body: unknown, options: RequestOptions = {}): Promise<IngestResult> {
  const rawBody = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  // Signed with Node's crypto, as Ably does: base64 HMAC-SHA256 of the raw body under the key secret.
  const signature = { 'x-ably-key': 'appAbc.keyOne', 'x-ably-signature': createHmac('sha256', KEY_SECRET).update(rawBody).digest('base64') };
  return ingestAblyRequest({
    source: definition,
    request: {
      method: options.method ?? 'POST',
      headers: { 'content-type': 'application/json', 'x-ably-version': '1.2', ...(options.signed === false ? {} : signature), ...options.headers },
      rawBody,
      receivedAt: RECEIVED_AT,
      requestId: 'req-1',
    },
    secretsFor: async (reference) => {
      secretLookups.push(reference);
      return SECRETS[reference.env!] ?? [];
    },
    maxBodyBytes: options.maxBodyBytes ?? 240 * 1024,
  });
}

async function refusal(run: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  try {
    await run;
  } catch (error) {
    if (error instanceof HookhubError) return { status: error.statusCode, code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the request was accepted');
}

const recordOf = (event: QueuedEvent) => JSON.parse(event.body) as Record<string, unknown>;

const message = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: 'status-update', clientId: 'device-7', connectionId: 'conn-1', timestamp: 1_764_583_200_000, data: { cpu: 12 }, ...extra });
const messageItem = (channelId: string, messages: unknown[], extra: Record<string, unknown> = {}) => ({
  webhookId: 'hook', source: 'channel.message', serial: 's', timestamp: 1_764_583_100_000, name: 'channel.message', data: { channelId, site: 'eu', messages }, ...extra,
});
const presenceItem = (channelId: string, presence: unknown[]) => ({ webhookId: 'hook', source: 'channel.presence', timestamp: 1_764_583_100_000, name: 'presence.message', data: { channelId, site: 'eu', presence } });
const lifecycleItem = (channelId: string, name = 'channel.opened') => ({
  webhookId: 'hook', source: 'channel.lifecycle', timestamp: 1_764_583_150_000, name, data: { channelId, name: channelId, status: { isActive: true, occupancy: { metrics: { connections: 1 } } } },
});

describe('ably preset: batch requests', () => {
  it('is the preset registered as ably', () => {
    expect(ablyPreset).toEqual({ name: 'ably', ingest: ingestAblyRequest });
  });

  it('queues one event per message, in wire form, keyed by the Ably message id', async () => {
    const wire = { data: Buffer.from('{"cmd":"restart"}').toString('base64'), encoding: 'json/base64' };
    const result = await ingest(ablySource(), {
      items: [messageItem('smartadmin-status', [message('m-1'), message('m-2', { extras: { headers: { a: '1' } } })]), messageItem('smartadmin-control-7', [message('m-3', wire)])],
    });

    expect(result.ignored).toBe(0);
    expect(result.rejected).toEqual([]);
    expect(result.events.map((event) => event.id)).toEqual(['m-1', 'm-2', 'm-3'].map((id) => eventIdFor('ably', id)));
    expect(result.events[0]).toMatchObject({ source: 'ably', providerEventId: 'm-1', type: 'channel.message', channel: 'ably:smartadmin-status', receivedAt: RECEIVED_AT.toISOString(), requestId: 'req-1', payloadFormat: 'json' });
    expect(recordOf(result.events[0]!)).toEqual({
      kind: 'message', messageId: 'm-1', channel: 'smartadmin-status', name: 'status-update', clientId: 'device-7', connectionId: 'conn-1',
      direction: 'received', data: { cpu: 12 }, timestamp: 1_764_583_200_000, receivedAt: RECEIVED_AT.toISOString(), via: 'webhook',
    });
    expect(recordOf(result.events[1]!).extras).toEqual({ headers: { a: '1' } });
    // Not decoded here: the worker's prepare step does that.
    expect(recordOf(result.events[2]!)).toMatchObject({ channel: 'smartadmin-control-7', direction: 'sent', data: wire.data, encoding: 'json/base64' });
    expect(secretLookups).toEqual([{ env: 'ABLY_API_KEY' }]);
  });

  it('keeps the request headers without the signature', async () => {
    const { events } = await ingest(ablySource(), { items: [messageItem('c', [message('m-1')])] });
    expect(events[0]!.headers).toEqual({ 'content-type': 'application/json', 'x-ably-version': '1.2', 'x-ably-key': 'appAbc.keyOne' });
  });

  it("takes the item's timestamp, else the receive time, when a message has none", async () => {
    const { events } = await ingest(ablySource(), {
      items: [messageItem('c', [message('m-1', { timestamp: undefined })]), messageItem('c', [message('m-2', { timestamp: null })], { timestamp: undefined })],
    });
    expect(events.map((event) => recordOf(event).timestamp)).toEqual([1_764_583_100_000, RECEIVED_AT.getTime()]);
  });

  it('gives a message without an id a hash of its content, the same on every retry, and queues repeats (the store dedupes)', async () => {
    const anonymous = { name: 'ping', connectionId: 'conn-1', timestamp: 5, data: 'x' };
    const { events } = await ingest(ablySource(), { items: [messageItem('c', [anonymous, anonymous, message('m-1'), message('m-1')])] });
    const expectedId = contentHashId(Buffer.from(JSON.stringify({ channel: 'c', connectionId: 'conn-1', timestamp: 5, name: 'ping', data: 'x' })));
    expect(events.map((event) => event.providerEventId)).toEqual([expectedId, expectedId, 'm-1', 'm-1']);
    expect(events[0]!.id).toBe(events[1]!.id);
  });

  it('hashes an id longer than 256 characters', async () => {
    const longId = 'i'.repeat(300);
    const { events } = await ingest(ablySource(), { items: [messageItem('c', [message(longId)])] });
    expect(events[0]!.providerEventId).toBe(contentHashId(Buffer.from(longId)));
  });

  it('counts messages on channels the filter does not match as ignored, per message', async () => {
    const result = await ingest(ablySource({ channelFilter: '^smartadmin-' }), {
      items: [messageItem('smartadmin-status', [message('m-1')]), messageItem('chat:lobby', [message('m-2'), message('m-3')]), presenceItem('other', [{ action: 2, clientId: 'a' }])],
    });
    expect(result.events.map((event) => event.providerEventId)).toEqual(['m-1']);
    expect(result.ignored).toBe(3);
  });

  it('stores presence as presence.<action>, or counts it as ignored', async () => {
    const presence = [{ id: 'p-1', action: 2, clientId: 'device-7', connectionId: 'conn-1', timestamp: 9, data: 'hi' }, { action: 3, clientId: 'device-7', timestamp: 10 }];
    const stored = await ingest(ablySource(), { items: [presenceItem('smartadmin-status', presence)] });
    expect(stored.events.map((event) => event.type)).toEqual(['presence.enter', 'presence.leave']);
    expect(recordOf(stored.events[0]!)).toEqual({
      kind: 'presence', messageId: 'p-1', channel: 'smartadmin-status', action: 'enter', clientId: 'device-7', connectionId: 'conn-1',
      data: 'hi', timestamp: 9, receivedAt: RECEIVED_AT.toISOString(), via: 'webhook',
    });
    expect(stored.events[1]!.providerEventId).toMatch(/^sha256:[0-9a-f]{64}$/);

    const ignored = await ingest(ablySource({ presence: 'ignore' }), { items: [presenceItem('smartadmin-status', presence), messageItem('c', [message('m-1')])] });
    expect(ignored.events.map((event) => event.type)).toEqual(['channel.message']);
    expect(ignored.ignored).toBe(2);
  });

  it('stores a lifecycle item under its name, keyed by a hash of the item, or counts it as ignored', async () => {
    const opened = lifecycleItem('smartadmin-status');
    const stored = await ingest(ablySource(), { items: [opened, lifecycleItem('smartadmin-status', 'channel.closed')] });
    expect(stored.events.map((event) => event.type)).toEqual(['channel.opened', 'channel.closed']);
    expect(stored.events[0]!.providerEventId).toBe(contentHashId(Buffer.from(JSON.stringify(opened))));
    expect(recordOf(stored.events[0]!)).toEqual({
      kind: 'lifecycle', messageId: stored.events[0]!.providerEventId, channel: 'smartadmin-status', name: 'channel.opened',
      status: opened.data.status, timestamp: 1_764_583_150_000, receivedAt: RECEIVED_AT.toISOString(), via: 'webhook',
    });

    const ignored = await ingest(ablySource({ lifecycle: 'ignore' }), { items: [opened] });
    expect(ignored).toEqual({ events: [], ignored: 1, rejected: [] });
  });

  it('counts items of a source it does not know as ignored, without failing the batch', async () => {
    const result = await ingest(ablySource(), { items: [{ source: 'channel.annotation', data: {} }, messageItem('c', [message('m-1')])] });
    expect(result.events).toHaveLength(1);
    expect(result.ignored).toBe(1);
  });

  it.each([
    ['not an object', 'just a string', 'item is not an object'],
    ['no source', { data: { channelId: 'c', messages: [] } }, 'source must be a string'],
    ['no data', { source: 'channel.message' }, 'data must be an object'],
    ['no channelId', messageItem('', [message('m-x')]), 'data.channelId must be a non-empty string'],
    ['a numeric channelId', { source: 'channel.message', data: { channelId: 7, messages: [] } }, 'data.channelId must be a non-empty string'],
    ['messages not an array', { source: 'channel.message', data: { channelId: 'c', messages: {} } }, 'data.messages must be an array'],
    ['a message not an object', messageItem('c', [message('m-x'), 42]), 'data.messages[1] is not an object'],
    ['a string timestamp', messageItem('c', [message('m-x', { timestamp: '1764583200000' })]), 'data.messages[0].timestamp must be a number'],
    ['a numeric id', messageItem('c', [message('m-x', { id: 12 })]), 'data.messages[0].id must be a string'],
    ['a string item timestamp', messageItem('c', [message('m-x')], { timestamp: 'yesterday' }), 'timestamp must be a number'],
    ['an object encoding', messageItem('c', [message('m-x', { encoding: {} })]), 'data.messages[0].encoding must be a string'],
    ['an unknown presence action', presenceItem('c', [{ action: 9 }]), 'data.presence[0].action must be a presence action (0 to 4)'],
    ['a lifecycle item without a name', { ...lifecycleItem('c'), name: undefined }, 'name must be a string of 1 to 256 characters'],
  ])('refuses an item with %s by its index and takes the rest', async (_case, bad, error) => {
    const result = await ingest(ablySource(), { items: [messageItem('c', [message('m-1')]), bad, messageItem('c', [message('m-2')])] });
    expect(result.rejected).toEqual([{ index: 1, error }]);
    expect(result.events.map((event) => event.providerEventId)).toEqual(['m-1', 'm-2']);
  });

  it('refuses an item whose record is over the body limit, and takes the rest', async () => {
    const big = messageItem('c', [message('m-big', { data: 'x'.repeat(2000) })]);
    const result = await ingest(ablySource(), { items: [messageItem('c', [message('m-1')]), messageItem('c', [message('m-2')]), big] }, { maxBodyBytes: 1024 });
    expect(result.rejected).toEqual([{ index: 2, error: expect.stringMatching(/^the item is \d+ bytes once recorded; the limit is 1024 bytes$/) }]);
    expect(result.events).toHaveLength(2);
  });

  it('takes 1,000 items and refuses 1,001 with a 400', async () => {
    const items = Array.from({ length: 1000 }, (_, index) => messageItem('c', [message(`m-${index}`)]));
    expect((await ingest(ablySource(), { items })).events).toHaveLength(1000);
    const over = await refusal(ingest(ablySource(), { items: [...items, messageItem('c', [message('m-1000')])] }));
    expect(over).toEqual({ status: 400, code: 'bad_request', message: 'a batch holds at most 1000 items; this one has 1001' });
  });

  it('takes a request over the generic body limit up to its own 5 MiB, and refuses more with a 413', async () => {
    const items = Array.from({ length: 400 }, (_, index) => messageItem('c', [message(`m-${index}`, { data: 'x'.repeat(10_000) })]));
    const result = await ingest(ablySource(), { items });
    expect(result.events).toHaveLength(400);

    const tooLarge = Buffer.from(JSON.stringify({ items: [messageItem('c', [message('m', { data: 'x'.repeat(ABLY_MAX_REQUEST_BYTES) })])] }));
    expect(await refusal(ingest(ablySource(), tooLarge))).toMatchObject({ status: 413, code: 'payload_too_large' });
  });
});

describe('ably preset: refusing a request', () => {
  it('answers 405 to anything but POST', async () => {
    expect(await refusal(ingest(ablySource(), { items: [] }, { method: 'GET' }))).toMatchObject({ status: 405, code: 'method_not_allowed' });
  });

  it('refuses a wrong signature or key, verifying before parsing', async () => {
    const wrongSignature = { 'x-ably-signature': createHmac('sha256', 'other').update('x').digest('base64') };
    expect(await refusal(ingest(ablySource(), { items: [] }, { headers: wrongSignature }))).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(await refusal(ingest(ablySource(), 'not json', { headers: wrongSignature }))).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(await refusal(ingest(ablySource(), { items: [] }, { headers: { 'x-ably-key': 'keyNine' } }))).toMatchObject({ status: 401, code: 'invalid_signature' });
  });

  it('refuses an unsigned request when no single-mode token is configured, saying how to accept one', async () => {
    const result = await refusal(ingest(ablySource(), { source: 'channel.message', channel: 'c', messages: [message('m-1')] }, { signed: false }));
    expect(result.status).toBe(401);
    expect(result.code).toBe('missing_signature');
    expect(result.message).toContain('Ably signs only batch requests');
    expect(result.message).toContain('options.singleModeToken');
  });

  it.each([
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'malformed_payload'],
    ['not JSON', '{"items": [', 'malformed_payload'],
    ['nested too deep', `{"items":${'['.repeat(200)}${']'.repeat(200)}}`, 'nesting_too_deep'],
    ['not an Ably shape', { hello: 'world' }, 'malformed_payload'],
  ])('answers 400 to a body %s', async (_case, body, code) => {
    expect(await refusal(ingest(ablySource(), body))).toMatchObject({ status: 400, code });
  });
});

describe('ably preset: single mode', () => {
  const envelope = { source: 'channel.message', appId: 'appAbc', channel: 'smartadmin-status', site: 'eu', ruleId: 'r1', messages: [message('m-1')] };

  it('takes an enveloped request carrying the configured token, and keeps the token out of the headers', async () => {
    const result = await ingest(withToken(), envelope, { signed: false, headers: { 'x-rule-auth': 'rule-token-value' } });
    expect(result.events.map((event) => event.providerEventId)).toEqual(['m-1']);
    expect(recordOf(result.events[0]!)).toMatchObject({ channel: 'smartadmin-status', data: { cpu: 12 } });
    expect(result.events[0]!.headers['x-rule-auth']).toBeUndefined();
    expect(secretLookups).toEqual([{ env: 'ABLY_RULE_TOKEN' }]);
  });

  it('takes an enveloped presence request', async () => {
    const presence = { source: 'channel.presence', channel: 'smartadmin-status', presence: [{ id: 'p-1', action: 4, clientId: 'device-7' }] };
    const result = await ingest(withToken(), presence, { signed: false, headers: { 'x-rule-auth': 'rule-token-value' } });
    expect(result.events.map((event) => event.type)).toEqual(['presence.update']);
  });

  it('refuses a missing or wrong token', async () => {
    expect(await refusal(ingest(withToken(), envelope, { signed: false }))).toMatchObject({ status: 401, code: 'missing_signature' });
    expect(await refusal(ingest(withToken(), envelope, { signed: false, headers: { 'x-rule-auth': 'guess' } }))).toMatchObject({ status: 401, code: 'invalid_signature' });
  });

  it('answers 400 naming the field when the one item is malformed, and 413 when its record is too large', async () => {
    const token = { 'x-rule-auth': 'rule-token-value' };
    const bad = await refusal(ingest(withToken(), { ...envelope, messages: [message('m-1', { timestamp: 'soon' })] }, { signed: false, headers: token }));
    expect(bad).toEqual({ status: 400, code: 'malformed_payload', message: 'messages[0].timestamp must be a number' });
    const big = await refusal(ingest(withToken(), { ...envelope, messages: [message('m-1', { data: 'x'.repeat(2000) })] }, { signed: false, headers: token, maxBodyBytes: 1024 }));
    expect(big).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('takes a request without the envelope: the body is the data, the metadata is in headers', async () => {
    const headers = {
      'x-rule-auth': 'rule-token-value',
      'x-ably-envelope-channel': 'smartadmin-control-3',
      'x-ably-envelope-source': 'channel.message',
      'x-ably-message-id': 'm-9',
      'x-ably-message-name': 'restart',
      'x-ably-message-client-id': 'console',
      'x-ably-message-timestamp': '1764583200123',
    };
    const result = await ingest(withToken(), { delay: 5 }, { signed: false, headers });
    expect(result.events.map((event) => event.id)).toEqual([eventIdFor('ably', 'm-9')]);
    expect(recordOf(result.events[0]!)).toEqual({
      kind: 'message', messageId: 'm-9', channel: 'smartadmin-control-3', name: 'restart', clientId: 'console', direction: 'sent',
      data: { delay: 5 }, timestamp: 1_764_583_200_123, receivedAt: RECEIVED_AT.toISOString(), via: 'webhook',
    });
    // Metadata headers are kept with the event, like any other header.
    expect(result.events[0]!.headers['x-ably-message-name']).toBe('restart');
  });

  it('takes presence without the envelope, its action from x-ably-message-action', async () => {
    const headers = { 'x-rule-auth': 'rule-token-value', 'x-ably-envelope-channel': 'c', 'x-ably-envelope-source': 'channel.presence', 'x-ably-message-action': '2', 'x-ably-message-client-id': 'd' };
    const result = await ingest(withToken(), { status: 'ok' }, { signed: false, headers });
    expect(result.events.map((event) => event.type)).toEqual(['presence.enter']);
  });

  it('answers 400 to a request without the envelope that lacks the channel or has a bad timestamp or action', async () => {
    const token = { 'x-rule-auth': 'rule-token-value' };
    expect(await refusal(ingest(withToken(), { a: 1 }, { signed: false, headers: { ...token, 'x-ably-message-id': 'm' } }))).toEqual({
      status: 400, code: 'malformed_payload', message: 'x-ably-envelope-channel header must be a non-empty string',
    });
    expect(await refusal(ingest(withToken(), { a: 1 }, { signed: false, headers: { ...token, 'x-ably-envelope-channel': 'c', 'x-ably-message-timestamp': 'now' } }))).toMatchObject({
      status: 400, message: 'x-ably-message-timestamp header must be epoch milliseconds',
    });
    const presence = { ...token, 'x-ably-envelope-channel': 'c', 'x-ably-envelope-source': 'channel.presence', 'x-ably-message-action': 'wave' };
    expect(await refusal(ingest(withToken(), { a: 1 }, { signed: false, headers: presence }))).toMatchObject({ status: 400, message: expect.stringContaining('x-ably-message-action') });
  });

  it('counts a single request of an unknown source as ignored', async () => {
    const result = await ingest(withToken(), { ...envelope, source: 'channel.annotation' }, { signed: false, headers: { 'x-rule-auth': 'rule-token-value' } });
    expect(result).toEqual({ events: [], ignored: 1, rejected: [] });
  });

  it('still verifies a signed request by its signature when a token is configured', async () => {
    const result = await ingest(withToken(), { items: [messageItem('c', [message('m-1')])] });
    expect(result.events).toHaveLength(1);
    expect(secretLookups).toEqual([{ env: 'ABLY_API_KEY' }]);
  });
});
