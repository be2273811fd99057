/**
 * The local runtime end to end: real HTTP and WebSocket traffic on loopback, the real AWS SDK clients against
 * dynalite and the durable SQS endpoint, signatures from independent signers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { sign as signGitHub } from '@octokit/webhooks-methods';
import type { LocalRuntime } from '../../lib/local/local-runtime';
import { startTestRuntime, TEST_PROCESSORS_MODULE, localAwsClients } from '../fixtures/test-runtime';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { eventIdFor } from '../../lambdas/core/events/event-id';
import { DEMO_SECRET, standardWebhookHeaders } from '../fixtures/sources';
import { apiClient, connectRealtime, postHook, waitUntil, type RealtimeClient } from '../fixtures/local-clients';

const ADMIN_KEY = 'integration-admin-key-0123456789';
const GITHUB_SECRET = 'github-webhook-secret';
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-it-'));
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let sqs: SQSClient;
let documents: DynamoDBDocumentClient;
const clients: RealtimeClient[] = [];

type PublicEvent = { id: string; status: string; attempts: number; duplicates: number; type: string; channel: string; lastError?: string; payload: unknown };

beforeAll(async () => {
  process.env.HOOKHUB_IT_DEMO_SECRET = DEMO_SECRET;
  process.env.HOOKHUB_IT_GITHUB_SECRET = GITHUB_SECRET;
  process.env.HOOKHUB_IT_FLAKY_TOKEN = 'flaky-token';
  const config = parseHookhubConfig({
    sources: [
      { id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_IT_DEMO_SECRET' } },
      {
        id: 'github',
        verification: { scheme: 'hmac', header: 'X-Hub-Signature-256', prefix: 'sha256=' },
        secret: { env: 'HOOKHUB_IT_GITHUB_SECRET' },
        eventId: { header: 'X-GitHub-Delivery' },
        eventType: { header: 'X-GitHub-Event' },
        channel: { name: 'github:repo' },
      },
      {
        id: 'flaky',
        verification: { scheme: 'token', header: 'X-Token' },
        secret: { env: 'HOOKHUB_IT_FLAKY_TOKEN' },
        eventId: { field: 'id' },
        processor: 'fail-when-asked',
      },
    ],
  });
  runtime = await startTestRuntime({
    config,
    dataDir,
    adminKey: ADMIN_KEY,
    visibilityTimeoutSeconds: 1,
    processorsModule: TEST_PROCESSORS_MODULE,
  });
  api = apiClient(runtime.httpUrl, ADMIN_KEY);
  ({ sqs, documents } = localAwsClients(runtime));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  sqs.destroy();
  documents.destroy();
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function listen(channels: string): Promise<RealtimeClient> {
  const client = await connectRealtime(runtime.wsUrl, ADMIN_KEY, channels);
  clients.push(client);
  return client;
}

async function sendDemo(messageId: string, payload: object) {
  const body = JSON.stringify(payload);
  return postHook(runtime.httpUrl, 'demo', body, standardWebhookHeaders(DEMO_SECRET, messageId, body));
}

const eventById = (id: string) => api<PublicEvent>(`/api/events/${id}`);
const eventsFor = (id: string, client: RealtimeClient) => client.messages.filter((message) => message.event?.id === id);

async function queueCounts(queueUrl: string) {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

describe('local runtime: inbound spine', () => {
  it('answers 202, stores the event once and pushes it to subscribers of its channel only', async () => {
    const demoListener = await listen('demo');
    const otherListener = await listen('github:*');

    const response = await sendDemo('msg_first', { type: 'order.paid', total: 42 });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ accepted: 1, ignored: 0, ids: [expect.stringMatching(/^evt_[0-9a-f]{32}$/)] });
    const id = response.body.ids![0]!;

    await waitUntil(async () => eventsFor(id, demoListener).length === 1, 10_000, 'the WebSocket push');
    expect(eventsFor(id, demoListener)[0]).toEqual({
      type: 'event',
      event: { id, source: 'demo', type: 'order.paid', channel: 'demo', receivedAt: expect.any(String), payload: { type: 'order.paid', total: 42 } },
    });
    const stored = await waitUntil(async () => {
      const { body } = await eventById(id);
      return body.status === 'processed' && body;
    });
    expect(stored).toMatchObject({ attempts: 1, duplicates: 0, payload: { type: 'order.paid', total: 42 } });
    expect(eventsFor(id, otherListener)).toHaveLength(0);
  });

  it('stores and pushes the same provider event once when it arrives twice', async () => {
    const listener = await listen('demo');
    const first = await sendDemo('msg_twice', { type: 'ping' });
    const second = await sendDemo('msg_twice', { type: 'ping' });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.ids).toEqual(first.body.ids);
    const id = first.body.ids![0]!;

    const stored = await waitUntil(async () => {
      const { body } = await eventById(id);
      return body.duplicates === 1 && body;
    }, 10_000, 'the duplicate to be counted');
    expect(stored).toMatchObject({ status: 'processed', attempts: 1 });
    expect(eventsFor(id, listener)).toHaveLength(1);
  });

  it('verifies GitHub signatures and takes id, type and channel from the configured headers', async () => {
    const listener = await listen('github:*');
    const body = JSON.stringify({ action: 'opened', number: 7 });
    const headers = {
      'content-type': 'application/json',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-github-event': 'pull_request',
      'x-hub-signature-256': await signGitHub(GITHUB_SECRET, body),
    };
    const response = await postHook(runtime.httpUrl, 'github', body, headers);
    expect(response.status).toBe(202);
    const id = response.body.ids![0]!;
    await waitUntil(async () => eventsFor(id, listener).length === 1, 10_000, 'the GitHub event push');
    expect((await eventById(id)).body).toMatchObject({ type: 'pull_request', channel: 'github:repo' });

    const forged = await postHook(runtime.httpUrl, 'github', body, { ...headers, 'x-hub-signature-256': await signGitHub('wrong', body) });
    expect(forged).toEqual({ status: 401, body: { error: 'invalid_signature', message: expect.any(String) } });
  });

  it('refuses each class of bad input with its status and a JSON error, and stores nothing', async () => {
    const body = '{"type":"bad"}';
    const good = standardWebhookHeaders(DEMO_SECRET, 'msg_bad', body);
    const stale = standardWebhookHeaders(DEMO_SECRET, 'msg_stale', body, new Date(Date.now() - 10 * 60_000));
    const malformed = '{"type": ';
    const huge = JSON.stringify({ blob: 'x'.repeat(300 * 1024) });
    const cases: Array<[string, Promise<{ status: number; body: Record<string, unknown> }>, number, string]> = [
      ['unknown source', postHook(runtime.httpUrl, 'nope', body, good), 404, 'unknown_source'],
      ['missing signature', postHook(runtime.httpUrl, 'demo', body, { 'content-type': 'application/json' }), 401, 'missing_signature'],
      ['wrong signature', postHook(runtime.httpUrl, 'demo', '{"type":"other"}', good), 401, 'invalid_signature'],
      ['stale timestamp', postHook(runtime.httpUrl, 'demo', body, stale), 401, 'stale_timestamp'],
      ['malformed JSON', postHook(runtime.httpUrl, 'demo', malformed, standardWebhookHeaders(DEMO_SECRET, 'msg_m', malformed)), 400, 'malformed_payload'],
      ['body over the limit', postHook(runtime.httpUrl, 'demo', huge, standardWebhookHeaders(DEMO_SECRET, 'msg_h', huge)), 413, 'payload_too_large'],
      ['wrong method', postHook(runtime.httpUrl, 'demo', '', {}, 'GET'), 405, 'method_not_allowed'],
    ];
    for (const [name, request, status, code] of cases) {
      const response = await request;
      expect({ name, status: response.status, error: response.body.error }).toEqual({ name, status, error: code });
      expect(typeof response.body.message).toBe('string');
    }
    expect(await queueCounts(runtime.inboundQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    // None of the refused requests left an event behind under the id it would have had.
    for (const messageId of ['msg_bad', 'msg_stale', 'msg_m', 'msg_h']) {
      expect((await eventById(eventIdFor('demo', messageId))).status).toBe(404);
    }
    // A malformed path does not take the gateway down.
    expect((await fetch(`${runtime.httpUrl}/hooks/%zz`, { method: 'POST', signal: AbortSignal.timeout(5_000) })).status).toBe(404);
    expect((await sendDemo('msg_after_bad_input', { type: 'still.up' })).status).toBe(202);
  });

  it('retries a failing event, moves it to the DLQ after 5 receives, and keeps processing the others', async () => {
    const headers = { 'x-token': 'flaky-token', 'content-type': 'application/json' };
    const poison = await postHook(runtime.httpUrl, 'flaky', '{"id":"poison-1","fail":true}', headers);
    const healthy = await postHook(runtime.httpUrl, 'flaky', '{"id":"healthy-1"}', headers);
    expect([poison.status, healthy.status]).toEqual([202, 202]);

    await waitUntil(async () => (await eventById(healthy.body.ids![0]!)).body.status === 'processed', 10_000, 'the healthy event');
    await waitUntil(async () => (await queueCounts(runtime.deadLetterQueueUrl)).visible === 1, 30_000, 'the poison event in the DLQ');
    expect((await eventById(poison.body.ids![0]!)).body).toMatchObject({ status: 'failed', attempts: 5, lastError: 'Error: asked to fail' });

    const health = await api<{ status: string; checks: Record<string, { ok: boolean; visible?: number; reason?: string }> }>('/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('degraded');
    expect(health.body.checks.deadLetterQueue).toMatchObject({ ok: false, visible: 1, reason: expect.stringContaining('dead-letter queue') });
    expect(health.body.checks.inboundQueue!.ok).toBe(true);
    const failed = await api<{ events: PublicEvent[] }>('/api/events?status=failed&source=flaky');
    expect(failed.body.events.map((event) => event.id)).toEqual([poison.body.ids![0]]);
  });
});

describe('local runtime: realtime', () => {
  it('refuses a WebSocket without the admin key', async () => {
    await expect(connectRealtime(runtime.wsUrl, 'not-the-key', 'demo')).rejects.toThrow('handshake refused: 401');
  });

  it('subscribes and unsubscribes over the socket, and answers a bad command with an error frame', async () => {
    const client = await listen('');
    client.socket.send(JSON.stringify({ action: 'subscribe', channels: ['demo'] }));
    client.socket.send('{"action":"dance"}');
    await waitUntil(async () => client.messages.length >= 2, 5_000, 'the replies');
    expect(client.messages).toEqual(
      expect.arrayContaining([
        { type: 'subscribed', channels: ['demo'] },
        { type: 'error', error: 'bad_request', message: expect.stringContaining('action') },
      ]),
    );
    const sent = await sendDemo('msg_after_subscribe', { type: 'hello' });
    await waitUntil(async () => eventsFor(sent.body.ids![0]!, client).length === 1, 10_000, 'the push after subscribing');
  });

  it('deletes a connection that API Gateway reports gone (410) when pushing to it', async () => {
    await documents.send(new PutCommand({ TableName: runtime.tables.connections, Item: { connectionId: 'vanished', entry: 'connection', expiresAt: 4_000_000_000 } }));
    await documents.send(
      new PutCommand({ TableName: runtime.tables.connections, Item: { connectionId: 'vanished', entry: 'channel#demo', channel: 'demo', expiresAt: 4_000_000_000 } }),
    );
    const sent = await sendDemo('msg_to_vanished', { type: 'x' });
    await waitUntil(async () => (await eventById(sent.body.ids![0]!)).body.status === 'processed', 10_000, 'processing');
    // The event is recorded as processed before it is pushed (one write per event), so the push that gets the 410,
    // and the deletion after it, may still be under way here.
    const remaining = () =>
      documents.send(
        new QueryCommand({ TableName: runtime.tables.connections, KeyConditionExpression: 'connectionId = :id', ExpressionAttributeValues: { ':id': 'vanished' } }),
      );
    await waitUntil(async () => (await remaining()).Items?.length === 0, 10_000, 'the gone connection to be deleted');
    expect((await remaining()).Items).toEqual([]);
  });

  it('forgets a client that disconnects', async () => {
    const client = await listen('gone-channel');
    await client.close();
    await waitUntil(async () => {
      const result = await documents.send(
        new QueryCommand({ TableName: runtime.tables.connections, IndexName: 'byChannel', KeyConditionExpression: 'channel = :c', ExpressionAttributeValues: { ':c': 'gone-channel' } }),
      );
      return (result.Items ?? []).length === 0;
    }, 5_000, 'the $disconnect cleanup');
  });
});
