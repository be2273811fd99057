/**
 * The ably-SDK history reader against the loopback fake of Ably's REST API: the real SDK builds the requests,
 * follows Link pagination and decodes payloads; the fake checks the key and injects Ably's enumeration errors.
 */
import { AblyApiError, AblyRestHistoryReader } from '../../../lambdas/adapters/ably/ably-history-reader';
import type { HistoryMessage, HistoryPage } from '../../../lambdas/providers/ably/ably-ports';
import { runAblySync } from '../../../lambdas/providers/ably/history-sync';
import type { AblyMessageRecord } from '../../../lambdas/providers/ably/ably-message';
import type { QueuedEvent } from '../../../lambdas/core/events/inbound-event';
import { startFakeAblyRest, type FakeAblyRest, type WireMessage } from '../../fixtures/fake-ably-rest';
import { InMemorySyncStateStore } from '../../fixtures/in-memory-ably-state';
import { source } from '../../fixtures/sources';

const T0 = Date.parse('2026-11-23T12:00:00.000Z');
let fake: FakeAblyRest;
let sleeps: number[];

beforeEach(async () => {
  fake = await startFakeAblyRest();
  sleeps = [];
});

afterEach(async () => {
  await fake.close();
});

function reader(apiKey = fake.apiKey): AblyRestHistoryReader {
  return new AblyRestHistoryReader({
    apiKey,
    restUrl: new URL(fake.url),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

function wireMessages(count: number, firstTimestamp: number, idPrefix: string): WireMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${idPrefix}:${index}`,
    name: 'status-update',
    data: JSON.stringify({ index }),
    encoding: 'json',
    timestamp: firstTimestamp + index,
    clientId: 'device-7',
    connectionId: 'conn-7',
  }));
}

async function allPages(first: HistoryPage): Promise<HistoryMessage[][]> {
  const pages: HistoryMessage[][] = [];
  for (let page: HistoryPage | undefined = first; page; page = await page.next()) pages.push(page.items);
  return pages;
}

describe('AblyRestHistoryReader.history', () => {
  it('reads 2,500 messages forwards from start in pages of 1,000, following the Link cursor', async () => {
    // A name with characters that need encoding in the path (`/` included).
    const channel = 'smartadmin-control:site/7';
    fake.addMessages(channel, wireMessages(20, T0 - 20, 'before'));
    fake.addMessages(channel, wireMessages(2_500, T0, 'm'));
    fake.addMessages('other', wireMessages(5, T0, 'o'));

    const pages = await allPages(await reader().history(channel, T0, 1000));

    expect(pages.map((page) => page.length)).toEqual([1000, 1000, 500]);
    const messages = pages.flat();
    expect(messages.map((message) => message.id)).toEqual(Array.from({ length: 2_500 }, (_, index) => `m:${index}`));
    expect(messages[1_234]).toEqual({ id: 'm:1234', name: 'status-update', data: { index: 1_234 }, timestamp: T0 + 1_234, clientId: 'device-7', connectionId: 'conn-7' });

    const historyRequests = fake.requests.filter((request) => request.path.endsWith('/messages'));
    expect(historyRequests).toHaveLength(3);
    expect(historyRequests[0]).toMatchObject({ path: '/channels/smartadmin-control%3Asite%2F7/messages', query: { start: String(T0), direction: 'forwards', limit: '1000' }, status: 200 });
    expect(historyRequests[0]!.headers).toMatchObject({ authorization: `Basic ${Buffer.from(fake.apiKey).toString('base64')}`, accept: 'application/json', 'x-ably-version': expect.any(String) });
    // The next pages carry the fake's opaque cursor, as the SDK read it from the Link header.
    expect(historyRequests[1]!.query).toMatchObject({ cursor: expect.any(String), direction: 'forwards' });
  });

  it('answers one empty page with no next for a channel without history since start', async () => {
    fake.addMessages('quiet', wireMessages(3, T0 - 100, 'old'));
    const pages = await allPages(await reader().history('quiet', T0, 1000));
    expect(pages).toEqual([[]]);
  });

  it('returns payloads decoded by the SDK, and keeps an encoding it could not undo', async () => {
    fake.addMessages('enc', [
      { id: 'json', data: '{"temperature":21.5,"ok":true}', encoding: 'json', timestamp: T0 },
      { id: 'json-base64', data: Buffer.from('{"nested":[1,2]}').toString('base64'), encoding: 'json/base64', timestamp: T0 + 1 },
      { id: 'utf8-base64', data: Buffer.from('héllo').toString('base64'), encoding: 'utf-8/base64', timestamp: T0 + 2 },
      { id: 'binary', data: Buffer.from([0, 1, 254, 255]).toString('base64'), encoding: 'base64', timestamp: T0 + 3 },
      { id: 'plain', data: 'just text', timestamp: T0 + 4 },
      { id: 'unknown', data: 'zzz', encoding: 'rot13', timestamp: T0 + 5 },
    ]);

    const [page] = await allPages(await reader().history('enc', T0, 1000));
    const byId = new Map(page!.map((message) => [message.id, message]));

    expect(byId.get('json')).toMatchObject({ data: { temperature: 21.5, ok: true } });
    expect(byId.get('json')).not.toHaveProperty('encoding');
    expect(byId.get('json-base64')!.data).toEqual({ nested: [1, 2] });
    expect(byId.get('utf8-base64')!.data).toBe('héllo');
    expect(Buffer.isBuffer(byId.get('binary')!.data)).toBe(true);
    expect([...(byId.get('binary')!.data as Buffer)]).toEqual([0, 1, 254, 255]);
    expect(byId.get('plain')!.data).toBe('just text');
    expect(byId.get('unknown')).toMatchObject({ data: 'zzz', encoding: 'rot13' });
  });

  it('turns a 5xx into an error with Ably code and status, without retrying elsewhere', async () => {
    fake.addMessages('flaky', wireMessages(1, T0, 'f'));
    fake.failHistory('flaky');
    const failure = await reader().history('flaky', T0, 1000).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AblyApiError);
    expect(failure).toMatchObject({ code: 50000, statusCode: 500 });
    expect((failure as Error).message).toMatch(/reading the history of channel flaky failed: Ably error 50000 \(HTTP 500\)/);
    expect(fake.counts.history).toBe(1);
    // The failure was one-off: the channel reads again.
    expect((await reader().history('flaky', T0, 1000)).items).toHaveLength(1);
  });

  it('fails with 40101, and never with the key in the message, when the key is wrong', async () => {
    const wrongKey = 'fakeApp.fakeKeyId:notTheRightSecret';
    const failure = await reader(wrongKey).history('any', T0, 1000).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'AblyApiError', code: 40101, statusCode: 401 });
    expect((failure as Error).message).toContain('Invalid credentials');
    expect((failure as Error).message).not.toContain('notTheRightSecret');
    const listing = await reader(wrongKey).listChannels('x').catch((error: unknown) => error);
    expect(listing).toMatchObject({ code: 40101 });
    expect((listing as Error).message).not.toContain('notTheRightSecret');
    expect(fake.counts.unauthorized).toBe(2);
  });
});

describe('AblyRestHistoryReader.listChannels', () => {
  const expected = Array.from({ length: 250 }, (_, index) => `smartadmin-control-${String(index).padStart(3, '0')}`);
  beforeEach(() => {
    fake.addChannels(expected);
    fake.addChannels(['smartadmin-status', 'unrelated-1']);
  });

  it('collects every name across pages once, through short, empty and overlapping pages', async () => {
    fake.setEnumerationQuirks({ pageSize: 40, repeatAcrossPages: true, emptyFirstPage: true });
    const names = await reader().listChannels('smartadmin-control-');
    expect([...names].sort()).toEqual(expected);
    expect(names).toHaveLength(250);
    const listings = fake.requests.filter((request) => request.path === '/channels');
    // One empty page, then 40 names a page where every page after the first repeats one: ceil((250 - 1) / 39) pages.
    expect(listings).toHaveLength(1 + Math.ceil(249 / 39));
    expect(listings[0]).toMatchObject({ query: { prefix: 'smartadmin-control-', by: 'id', limit: '100' } });
  });

  it('restarts the listing from the start on 40011, and gives up naming the code after 3 restarts', async () => {
    // Two pages of 100 succeed, the third answers 40011: the listing starts over and completes.
    fake.failEnumeration(40011, { afterRequests: 2 });
    const names = await reader().listChannels('smartadmin-control-');
    expect([...names].sort()).toEqual(expected);
    const cursors = fake.requests.filter((request) => request.path === '/channels').map((request) => request.query.cursor !== undefined);
    expect(cursors).toEqual([false, true, true, false, true, true]);

    fake.failEnumeration(40011, { times: 4 });
    await expect(reader().listChannels('smartadmin-control-')).rejects.toThrow(/40011/);
  });

  it('waits and retries on 42912 (1 s, 2 s), then completes', async () => {
    fake.failEnumeration(42912, { times: 2, afterRequests: 1 });
    const names = await reader().listChannels('smartadmin-control-');
    expect([...names].sort()).toEqual(expected);
    expect(sleeps).toEqual([1_000, 2_000]);
    // The busy page is asked for again, not the whole listing: 3 pages + 2 refused tries.
    const cursors = fake.requests.filter((request) => request.path === '/channels').map((request) => request.query.cursor !== undefined);
    expect(cursors).toEqual([false, true, true, true, true]);
  });

  it('gives up after 3 retries of a busy enumeration with an error naming 42912', async () => {
    fake.failEnumeration(42912, { times: 4 });
    const failure = await reader().listChannels('smartadmin-').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AblyApiError);
    expect(failure).toMatchObject({ code: 42912 });
    expect((failure as Error).message).toMatch(/42912/);
    expect(sleeps).toEqual([1_000, 2_000, 4_000]);
    expect(fake.counts.enumeration).toBe(4);
  });

  it('answers no names for a prefix nothing matches', async () => {
    expect(await reader().listChannels('nothing-')).toEqual([]);
  });
});

describe('the sync core over the SDK reader', () => {
  it('stores what the fake serves, binary payloads as base64, and resumes from the cursor on the next run', async () => {
    fake.addMessages('smartadmin-status', wireMessages(1_200, T0 - 60_000, 's'));
    fake.addMessages('smartadmin-control-1', [{ id: 'bin', data: Buffer.from([1, 2, 3]).toString('base64'), encoding: 'base64', timestamp: T0 - 1_000 }]);
    fake.addChannels(['smartadmin-control-1', 'smartadmin-control-x']);
    const stored = new Map<string, QueuedEvent>();
    const state = new InMemorySyncStateStore();
    let clock = T0;
    const syncDeps = {
      reader: reader(),
      state,
      storeOnce: async (event: QueuedEvent) => {
        if (stored.has(event.id)) return 'duplicate' as const;
        stored.set(event.id, event);
        return 'stored' as const;
      },
      now: () => clock,
      newRunId: () => `run-${clock}`,
    };
    const ablySource = source({
      id: 'ably',
      preset: 'ably',
      secret: { env: 'ABLY_API_KEY' },
      options: { channelFilter: '^smartadmin-(status|control-\\d+)$', history: { channels: ['smartadmin-status'], channelPrefixes: ['smartadmin-control-'] } },
    });

    const first = await runAblySync({ source: ablySource, trigger: 'schedule', deadlineMs: T0 + 60_000, runExpiresAt: 0 }, syncDeps);
    expect(first).toMatchObject({ outcome: 'ok', pages: 3, seen: 1_201, stored: 1_201 });
    expect(first.channels.map((channel) => channel.channel)).toEqual(['smartadmin-status', 'smartadmin-control-1']);
    const binary = [...stored.values()].map((event) => JSON.parse(event.body) as AblyMessageRecord).find((record) => record.messageId === 'bin');
    expect(binary).toMatchObject({ data: Buffer.from([1, 2, 3]).toString('base64'), encoding: 'base64', direction: 'sent', via: 'history' });

    fake.addMessages('smartadmin-status', wireMessages(3, T0 + 1_000, 'new'));
    clock = T0 + 300_000;
    const second = await runAblySync({ source: ablySource, trigger: 'schedule', deadlineMs: clock + 60_000, runExpiresAt: 0 }, syncDeps);
    // The 30 s overlap reaches back over every earlier message (they are 1 ms apart): all duplicates, 3 stored.
    expect(second).toMatchObject({ outcome: 'ok', seen: 1_204, stored: 3, duplicates: 1_201 });
    expect(state.cursorOf('ably', 'smartadmin-status')).toBe(T0 + 1_002);
  });
});
