/**
 * Realtime fan-out through the local runtime under the conditions that broke it: an event too large for one
 * WebSocket message, and a subscriber that stops reading. Real signed webhooks in, real ws clients out, on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/local-runtime';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { MAX_WEBSOCKET_MESSAGE_BYTES } from '../../lambdas/core/realtime/message-limit';
import { DEMO_SECRET, standardWebhookHeaders } from '../fixtures/sources';
import { apiClient, connectRealtime, postHook, waitUntil, type RealtimeClient } from '../fixtures/local-clients';

const ADMIN_KEY = 'realtime-fan-out-admin-key-0123';
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-fan-out-'));
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
const clients: RealtimeClient[] = [];

beforeAll(async () => {
  process.env.HOOKHUB_FANOUT_DEMO_SECRET = DEMO_SECRET;
  runtime = await startLocalRuntime({
    config: parseHookhubConfig({
      sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_FANOUT_DEMO_SECRET' } }],
    }),
    dataDir,
    port: 0,
    wsPort: 0,
    adminKey: ADMIN_KEY,
    ttlSweepIntervalMs: 3_600_000,
  });
  api = apiClient(runtime.httpUrl, ADMIN_KEY);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
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
