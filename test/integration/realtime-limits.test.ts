/**
 * The realtime path's limits through the local runtime, under the conditions that broke them: an event too large for
 * one WebSocket message, a subscriber that stops reading, and a client that subscribes past the per-connection channel
 * cap. Real signed webhooks in, real ws clients out, on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalRuntime } from '../../lib/local/local-runtime';
import { startTestRuntime, localAwsClients } from '../fixtures/test-runtime';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { MAX_WEBSOCKET_MESSAGE_BYTES } from '../../lambdas/core/realtime/message-limit';
import { DEMO_SECRET, standardWebhookHeaders } from '../fixtures/sources';
import { apiClient, connectRealtime, postHook, waitUntil, type RealtimeClient } from '../fixtures/local-clients';
import { connect } from 'node:net';

const ADMIN_KEY = 'realtime-fan-out-admin-key-0123';
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-realtime-limits-'));
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
const clients: RealtimeClient[] = [];

beforeAll(async () => {
  process.env.HOOKHUB_FANOUT_DEMO_SECRET = DEMO_SECRET;
  runtime = await startTestRuntime({
    config: parseHookhubConfig({
      sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_FANOUT_DEMO_SECRET' } }],
    }),
    dataDir,
    adminKey: ADMIN_KEY,
  });
  api = apiClient(runtime.httpUrl, ADMIN_KEY);
  ({ documents } = localAwsClients(runtime));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  documents.destroy();
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function listen(channels: string): Promise<RealtimeClient> {
  const client = await connectRealtime(runtime.wsUrl, ADMIN_KEY, channels);
  clients.push(client);
  return client;
}

async function sendDemo(messageId: string, payload: object): Promise<string> {
  const body = JSON.stringify(payload);
  const response = await postHook(runtime.httpUrl, 'demo', body, standardWebhookHeaders(DEMO_SECRET, messageId, body));
  expect(response.status).toBe(202);
  return response.body.ids![0]!;
}

const pushesOf = (id: string, client: RealtimeClient) => client.messages.filter((message) => message.event?.id === id);

describe('an event too large for one WebSocket message', () => {
  it('is pushed as its envelope with payloadOmitted and the read-API path, which serves the whole payload', async () => {
    const listener = await listen('demo');
    const payload = { type: 'large.blob', blob: 'x'.repeat(200 * 1024) };
    expect(JSON.stringify(payload).length).toBeGreaterThan(MAX_WEBSOCKET_MESSAGE_BYTES);
    const id = await sendDemo('msg_large', payload);

    await waitUntil(async () => pushesOf(id, listener).length > 0, 15_000, 'the push of the large event');
    const [push] = pushesOf(id, listener);
    expect(push).toEqual({
      type: 'event',
      event: { id, source: 'demo', type: 'large.blob', channel: 'demo', receivedAt: expect.any(String), payloadOmitted: true, payloadPath: `/api/events/${id}` },
    });
    const fetched = await api<{ status: string; payload: unknown }>((push!.event as unknown as { payloadPath: string }).payloadPath);
    expect(fetched.status).toBe(200);
    expect(fetched.body.payload).toEqual(payload);
  });
});

/** Connection ids subscribed to exactly `pattern`, from the connections table the worker reads. */
async function subscribersOf(pattern: string): Promise<string[]> {
  const result = await documents.send(
    new QueryCommand({ TableName: runtime.tables.connections, IndexName: 'byChannel', KeyConditionExpression: 'channel = :c', ExpressionAttributeValues: { ':c': pattern } }),
  );
  return (result.Items ?? []).map((item) => String(item.connectionId));
}

describe('a subscriber that stops reading', () => {
  /** What the worker does for each push: POST @connections/{id} on the gateway's management API. */
  async function postToConnection(connectionId: string, data: string): Promise<number | 'no answer'> {
    const callbackUrl = runtime.wsUrl.replace(/^ws:/, 'http:');
    try {
      const response = await fetch(`${callbackUrl}/@connections/${encodeURIComponent(connectionId)}`, { method: 'POST', body: data, signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      return response.status;
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') return 'no answer';
      throw error;
    }
  }

  it('holds up neither the worker nor other subscribers, and is closed as a slow consumer (1008)', async () => {
    const healthy = await listen('demo');
    const stalled = await listen('demo,stalled-marker');
    const [stalledId] = await waitUntil(async () => {
      const ids = await subscribersOf('stalled-marker');
      return ids.length === 1 && ids;
    }, 10_000, 'the stalled client to be stored');
    const stalledClosed = new Promise<number>((resolve) => stalled.socket.once('close', (code) => resolve(code)));

    // Stop reading, then push full-size messages until every buffer between the gateway and the client is full,
    // as a client does that stops reading while events keep coming: the gateway must notice and give up on it.
    stalled.socket.pause();
    const filler = JSON.stringify({ type: 'filler', blob: 'x'.repeat(MAX_WEBSOCKET_MESSAGE_BYTES - 64) });
    const answers: Array<number | 'no answer'> = [];
    while (answers.length < 400 && answers.at(-1) !== 'no answer' && (answers.at(-1) ?? 200) === 200) {
      answers.push(await postToConnection(stalledId!, filler));
    }

    const ids: string[] = [];
    for (let index = 0; index < 20; index++) ids.push(await sendDemo(`msg_while_stalled_${index}`, { type: 'small', index }));
    await waitUntil(async () => ids.every((id) => pushesOf(id, healthy).length === 1), 30_000, 'all 20 events at the healthy subscriber');
    for (const id of ids) expect((await api<{ status: string }>(`/api/events/${id}`)).body.status).toBe('processed');
    // Every push was answered at once until the backlog passed the bound, then 410 Gone: the worker forgets it.
    expect(answers.at(-1)).toBe(410);
    expect(answers.slice(0, -1).every((status) => status === 200)).toBe(true);
    await waitUntil(async () => (await subscribersOf('stalled-marker')).length === 0, 10_000, 'the stalled connection to be forgotten');

    // Once it reads again, the client gets what was buffered and then the close frame saying why.
    stalled.socket.resume();
    expect(await stalledClosed).toBe(1008);
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe('the @connections endpoint on the WebSocket port', () => {
  it('answers a declared oversize push 413 without waiting for its body', async () => {
    await listen('oversize-marker');
    const [connectionId] = await waitUntil(async () => {
      const ids = await subscribersOf('oversize-marker');
      return ids.length === 1 && ids;
    }, 10_000, 'the connection to be stored');
    const { hostname, port } = new URL(runtime.wsUrl);
    // Declares 20 MB and sends 1 KB: an endpoint that buffered the body first would wait for the rest forever.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(`POST /@connections/${encodeURIComponent(connectionId!)} HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n${'x'.repeat(1024)}`),
      );
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received.includes('\r\n\r\n')) socket.destroy();
      });
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => socket.destroy());
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('a malformed WebSocket handshake', () => {
  it('is refused with 400 before $connect, so it leaves no connection record', async () => {
    const countConnections = async () =>
      ((await documents.send(new ScanCommand({ TableName: runtime.tables.connections }))).Items ?? []).filter((item) => item.entry === 'connection').length;
    const before = await countConnections();
    const { hostname, port } = new URL(runtime.wsUrl);
    for (const key of ['not-a-key', '', 'AAAAAAAAAAAAAAAAAAAAAA==x']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () =>
          socket.write(
            `GET /?token=${ADMIN_KEY}&channels=demo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
          ),
        );
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString()));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        socket.setTimeout(5_000, () => socket.destroy());
      });
      expect({ key, status: answer.slice(0, 12) }).toEqual({ key, status: 'HTTP/1.1 400' });
    }
    expect(await countConnections()).toBe(before);
  });
});

describe('a client that subscribes past the per-connection channel cap', () => {
  it('keeps at most 20 subscriptions across 50 overlapping subscribes, and tells the client the limit', async () => {
    const client = await listen('flood-marker');
    const [connectionId] = await waitUntil(async () => {
      const ids = await subscribersOf('flood-marker');
      return ids.length === 1 && ids;
    }, 10_000, 'the connection to be stored');
    // Sent back to back, so the $default invocations overlap as they may on API Gateway. With the channel it
    // connected with, any one of these fills the connection to exactly 20.
    for (let message = 0; message < 50; message++) {
      client.socket.send(JSON.stringify({ action: 'subscribe', channels: Array.from({ length: 19 }, (_, index) => `flood-${message}-${index}`) }));
    }
    const replies = () => client.messages.filter((reply) => reply.type === 'subscribed' || reply.type === 'error');
    await waitUntil(async () => replies().length === 50, 30_000, 'a reply to each of the 50 subscribes');

    const stored = await documents.send(
      new QueryCommand({ TableName: runtime.tables.connections, KeyConditionExpression: 'connectionId = :id', ExpressionAttributeValues: { ':id': connectionId }, ConsistentRead: true }),
    );
    const subscriptions = (stored.Items ?? []).filter((item) => item.entry !== 'connection').map((item) => String(item.channel));
    expect(subscriptions).toHaveLength(20);
    // No partial state: the one accepted message is there whole, nothing of the refused ones.
    const accepted = replies().filter((reply) => reply.type === 'subscribed');
    expect(accepted).toHaveLength(1);
    expect(subscriptions.sort()).toEqual(['flood-marker', ...(accepted[0]!.channels as string[])].sort());
    const refused = replies().filter((reply) => reply.type === 'error');
    expect(refused).toHaveLength(49);
    expect(new Set(refused.map((reply) => reply.message))).toEqual(
      new Set(['at most 20 channel patterns per connection; this connection has 20 and the request adds 19 new: nothing was subscribed (unsubscribe some first)']),
    );
    expect(refused[0]!.error).toBe('channel_limit');
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });
});
