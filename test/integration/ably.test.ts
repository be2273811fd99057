/**
 * The Ably preset end to end through the local runtime: signed batch webhooks as Ably sends them (signed here with
 * Node's crypto, per Ably's published algorithm), the worker's store-once path, the realtime push on `ably:*`, the
 * message log API, and the history sync reading a loopback stand-in of Ably's REST API through the real ably SDK.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalRuntime } from '../../lib/local/local-runtime';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { eventIdFor } from '../../lambdas/core/events/event-id';
import { startTestRuntime } from '../fixtures/test-runtime';
import { connectRealtime, managementClient, postHook, waitUntil, type RealtimeClient } from '../fixtures/local-clients';
import { startFakeAblyRest, type FakeAblyRest, type WireMessage } from '../fixtures/fake-ably-rest';

const ADMIN_KEY = 'ably-integration-admin-key-0123';
const KEY_NAME = 'hookhubApp.signKey';
const KEY_SECRET = 'ably-key-secret-0123456789';
const API_KEY = `${KEY_NAME}:${KEY_SECRET}`;
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-ably-'));
let runtime: LocalRuntime;
let ablyRest: FakeAblyRest;
let api: ReturnType<typeof managementClient>;
let realtime: RealtimeClient;

interface MessageLogEntry {
  messageId: string;
  channel: string;
  name: string | null;
  clientId: string | null;
  direction: string;
  data: unknown;
  via: string;
  timestamp: number;
}
interface SyncRunView {
  outcome: string;
  seen: number;
  stored: number;
  duplicates: number;
  pages: number;
  errors: string[];
}

beforeAll(async () => {
  ablyRest = await startFakeAblyRest({ apiKey: API_KEY });
  // Read by the sync function at import, as a Lambda reads its environment at cold start.
  process.env.HOOKHUB_ABLY_REST_URL = ablyRest.url;
  process.env.HOOKHUB_IT_ABLY_KEY = API_KEY;
  const config = parseHookhubConfig({
    sources: [
      {
        id: 'ably',
        preset: 'ably',
        secret: { env: 'HOOKHUB_IT_ABLY_KEY' },
        // The schedule is off: each test runs the sync itself and expects its counts.
        options: { channelFilter: '^smartadmin-', history: { intervalMinutes: 0 } },
      },
    ],
  });
  runtime = await startTestRuntime({ config, dataDir, adminKey: ADMIN_KEY, visibilityTimeoutSeconds: 2 });
  api = managementClient(runtime.httpUrl, ADMIN_KEY);
  realtime = await connectRealtime(runtime.wsUrl, ADMIN_KEY, 'ably:*');
}, 60_000);

afterAll(async () => {
  await realtime?.close();
  await runtime?.stop();
  await ablyRest?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function wireMessage(id: string, data: unknown, timestamp = Date.now() - 60_000): WireMessage {
  return { id, name: 'status-update', clientId: 'client-7', connectionId: 'conn-1', timestamp, data: JSON.stringify(data), encoding: 'json' };
}

/** An Ably batch request: items of `channel.message` holding the messages, signed with the key's secret. */
function signedBatch(itemsByChannel: Array<{ channel: string; messages: WireMessage[] }>, keySecret = KEY_SECRET) {
  const body = JSON.stringify({
    items: itemsByChannel.map(({ channel, messages }, index) => ({
      webhookId: `wh-${index}`,
      source: 'channel.message',
      serial: `serial-${index}`,
      timestamp: Date.now(),
      name: 'channel.message',
      data: { channelId: channel, site: 'eu-west-1-A', messages },
    })),
  });
  const signature = createHmac('sha256', keySecret).update(body).digest('base64');
  return { body, headers: { 'content-type': 'application/json', 'x-ably-key': KEY_NAME, 'x-ably-signature': signature } };
}

async function messagesOn(channel: string): Promise<MessageLogEntry[]> {
  const all: MessageLogEntry[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `/api/ably/messages?channel=${encodeURIComponent(channel)}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await api<{ messages: MessageLogEntry[]; cursor: string | null }>('GET', query);
    expect(page.status).toBe(200);
    all.push(...page.body.messages);
    cursor = page.body.cursor;
  } while (cursor);
  return all;
}

const pushesOn = (channel: string) => realtime.messages.filter((message) => message.type === 'event' && message.event?.channel === `ably:${channel}`);

async function channelCount(channel: string): Promise<number> {
  const stats = await api<{ byChannel: Record<string, number> }>('GET', '/api/ably/stats');
  return stats.body.byChannel[channel] ?? 0;
}

describe('signed batch webhooks', () => {
  it('stores a batch of 1,000 messages with 10 repeated ids as 990 messages, each pushed once', async () => {
    const channel = 'smartadmin-status';
    const messages = Array.from({ length: 990 }, (_, index) => wireMessage(`batch-${index}`, { client: index, state: 'ok' }));
    const repeats = messages.slice(0, 10).map((message) => ({ ...message }));
    const items = [...messages, ...repeats];
    const chunks = Array.from({ length: 100 }, (_, index) => ({ channel, messages: items.slice(index * 10, index * 10 + 10) }));
    const { body, headers } = signedBatch(chunks);

    const response = await postHook(runtime.httpUrl, 'ably', body, headers);
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ accepted: 1000, ignored: 0 });
    expect(response.body.ids).toHaveLength(1000);
    expect(new Set(response.body.ids).size).toBe(990);

    await waitUntil(async () => (await channelCount(channel)) === 990, 60_000, '990 messages in the log');
    // Every copy was handled once the ten duplicates are counted on their events.
    const repeatedEventIds = response.body.ids!.slice(990);
    await waitUntil(
      async () => {
        const events = await Promise.all(repeatedEventIds.map((id) => api<{ duplicates: number }>('GET', `/api/events/${id}`)));
        return events.every((event) => event.body.duplicates === 1);
      },
      60_000,
      'the ten repeated ids counted as duplicates',
    );
    await waitUntil(async () => pushesOn(channel).length >= 990, 15_000, '990 pushes');
    const pushedIds = pushesOn(channel).map((message) => message.event!.id);
    expect(pushedIds).toHaveLength(990);
    expect(new Set(pushedIds).size).toBe(990);

    const logged = await messagesOn(channel);
    expect(logged).toHaveLength(990);
    expect(logged[0]).toMatchObject({ channel, name: 'status-update', clientId: 'client-7', direction: 'received', via: 'webhook' });
    expect(new Set(logged.map((message) => message.messageId)).size).toBe(990);
  }, 120_000);

  it('counts messages on channels outside the filter as ignored and stores none of them', async () => {
    const { body, headers } = signedBatch([
      { channel: 'other-app-chat', messages: [wireMessage('ignored-1', { a: 1 }), wireMessage('ignored-2', { a: 2 })] },
      { channel: 'smartadmin-control-broadcast', messages: [wireMessage('kept-1', { command: 'restart' })] },
    ]);
    const response = await postHook(runtime.httpUrl, 'ably', body, headers);
    expect(response).toMatchObject({ status: 202, body: { accepted: 1, ignored: 2 } });

    await waitUntil(async () => (await channelCount('smartadmin-control-broadcast')) === 1, 30_000, 'the kept message');
    const [kept] = await messagesOn('smartadmin-control-broadcast');
    expect(kept).toMatchObject({ messageId: 'kept-1', direction: 'sent', data: { command: 'restart' } });
    expect(await messagesOn('other-app-chat')).toEqual([]);
  }, 60_000);

  it('decodes payloads per their encoding, chains included', async () => {
    const channel = 'smartadmin-encodings';
    const base = Date.now() - 30_000;
    const encoded: WireMessage[] = [
      { id: 'enc-json', timestamp: base + 1, data: '{"n":1}', encoding: 'json' },
      { id: 'enc-base64', timestamp: base + 2, data: Buffer.from('plain text').toString('base64'), encoding: 'utf-8/base64' },
      { id: 'enc-json-base64', timestamp: base + 3, data: Buffer.from('{"nested":{"ok":true}}').toString('base64'), encoding: 'json/utf-8/base64' },
      { id: 'enc-none', timestamp: base + 4, data: 'as is' },
    ];
    const { body, headers } = signedBatch([{ channel, messages: encoded }]);
    expect((await postHook(runtime.httpUrl, 'ably', body, headers)).status).toBe(202);

    await waitUntil(async () => (await channelCount(channel)) === 4, 30_000, 'the encoded messages');
    const byId = Object.fromEntries((await messagesOn(channel)).map((message) => [message.messageId, message.data]));
    expect(byId).toEqual({ 'enc-json': { n: 1 }, 'enc-base64': 'plain text', 'enc-json-base64': { nested: { ok: true } }, 'enc-none': 'as is' });
  }, 60_000);

  it('refuses a bad signature with 401 and stores nothing', async () => {
    const { body, headers } = signedBatch([{ channel: 'smartadmin-status', messages: [wireMessage('forged-1', { evil: true })] }], 'not-the-key-secret');
    const response = await postHook(runtime.httpUrl, 'ably', body, headers);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'invalid_signature' });

    // The event id a forged message would have had is not stored (nor queued: the request was refused before).
    expect((await api('GET', `/api/events/${eventIdFor('ably', 'forged-1')}`)).status).toBe(404);
  });
});

describe('history sync', () => {
  it('after a webhook delivered 70% of 2,000 messages, stores exactly the missing 30% with no second push; a second sync stores nothing', async () => {
    const channel = 'smartadmin-control-device-9';
    // A second apart over the last 40 minutes: far more than the 30 s overlap a second run re-reads.
    const start = Date.now() - 40 * 60_000;
    const all = Array.from({ length: 2000 }, (_, index) => wireMessage(`hist-${index}`, { seq: index }, start + index * 1000));
    const delivered = all.filter((_, index) => index % 10 < 7);
    expect(delivered).toHaveLength(1400);
    for (let offset = 0; offset < delivered.length; offset += 500) {
      const { body, headers } = signedBatch([{ channel, messages: delivered.slice(offset, offset + 500) }]);
      expect((await postHook(runtime.httpUrl, 'ably', body, headers)).status).toBe(202);
    }
    await waitUntil(async () => (await channelCount(channel)) === 1400, 60_000, 'the 1,400 delivered messages');
    await waitUntil(async () => pushesOn(channel).length >= 1400, 15_000, '1,400 pushes');
    ablyRest.addMessages(channel, all);

    // A run on demand stops after 25 s and the next resumes from the cursor; on a busy machine that may take more
    // than one run. Together they store exactly the missing 600.
    const runs: SyncRunView[] = [];
    while (runs.length < 10 && runs.at(-1)?.outcome !== 'ok') {
      const run = await api<SyncRunView>('POST', '/api/sync/ably', { channels: [channel] });
      expect(run.status).toBe(200);
      expect(run.body.errors).toEqual([]);
      runs.push(run.body);
    }
    expect(runs.at(-1)?.outcome).toBe('ok');
    expect(runs.reduce((sum, run) => sum + run.stored, 0)).toBe(600);
    expect(runs[0]!.seen).toBe(runs[0]!.stored + runs[0]!.duplicates);
    expect(await channelCount(channel)).toBe(2000);

    await waitUntil(async () => pushesOn(channel).length >= 2000, 15_000, '2,000 pushes');
    const pushed = pushesOn(channel).map((message) => message.event!.id);
    expect(pushed).toHaveLength(2000);
    expect(new Set(pushed).size).toBe(2000);
    const synced = (await messagesOn(channel)).filter((message) => message.via === 'history');
    expect(synced.map((message) => message.messageId).sort()).toEqual(all.filter((_, index) => index % 10 >= 7).map((message) => message.id).sort());

    const second = await api<SyncRunView>('POST', '/api/sync/ably', { channels: [channel] });
    expect(second.body).toMatchObject({ outcome: 'ok', stored: 0 });
    // The cursor kept the second run to the overlap window: it re-read a few messages, not the channel's history.
    expect(second.body.seen).toBeGreaterThan(0);
    expect(second.body.seen).toBeLessThanOrEqual(31);
    expect(await channelCount(channel)).toBe(2000);

    const listed = await api<{ runs: Array<{ stored: number; trigger: string }> }>('GET', `/api/sync/runs?limit=${runs.length + 1}`);
    expect(listed.body.runs.map((run) => [run.trigger, run.stored])).toEqual([['manual', 0], ...runs.reverse().map((run) => ['manual', run.stored])]);
    const stats = await api<{ lastSync: { outcome: string; stored: number } | null }>('GET', '/api/ably/stats');
    expect(stats.body.lastSync).toMatchObject({ outcome: 'ok', stored: 0 });
  }, 180_000);
});
