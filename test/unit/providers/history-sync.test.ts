/**
 * The history sync core with in-memory ports: a history reader that pages like Ably (forwards, inclusive start), the
 * in-memory cursor/lease store, and a store-once path that dedupes by event id. A fake clock drives the deadline.
 */
import { runAblySync, type AblySyncDeps, type AblySyncRequest } from '../../../lambdas/providers/ably/history-sync';
import type { AblyHistoryReader, HistoryMessage, HistoryPage, StoreOnce } from '../../../lambdas/providers/ably/ably-ports';
import type { AblyMessageRecord } from '../../../lambdas/providers/ably/ably-message';
import type { QueuedEvent } from '../../../lambdas/core/events/inbound-event';
import { eventIdFor } from '../../../lambdas/core/events/event-id';
import { InMemorySyncStateStore } from '../../fixtures/in-memory-ably-state';
import { source } from '../../fixtures/sources';

const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const SOURCE_ID = 'ably';

/** Ably-like history: messages kept oldest first; `history` answers pages of `limit` from `start` inclusive. */
class FakeHistoryReader implements AblyHistoryReader {
  readonly messages = new Map<string, HistoryMessage[]>();
  readonly channelsByPrefix = new Map<string, string[]>();
  readonly historyCalls: { channel: string; startMs: number; limit: number }[] = [];
  pagesServed = 0;
  /** Runs before each page is answered (first and next): tests move the clock here. */
  onPage: () => void = () => undefined;
  failHistory = new Map<string, Error>();
  failListing = new Map<string, Error>();

  add(channel: string, count: number, firstTimestamp: number, idPrefix = channel): HistoryMessage[] {
    const list = this.messages.get(channel) ?? [];
    const added = Array.from({ length: count }, (_, index) => ({
      id: `${idPrefix}-${index}`,
      name: 'status-update',
      data: { index },
      clientId: 'device-1',
      connectionId: 'conn-1',
      timestamp: firstTimestamp + index,
    }));
    list.push(...added);
    list.sort((a, b) => a.timestamp - b.timestamp);
    this.messages.set(channel, list);
    return added;
  }

  async history(channel: string, startMs: number, limit: number): Promise<HistoryPage> {
    this.historyCalls.push({ channel, startMs, limit });
    const failure = this.failHistory.get(channel);
    if (failure) throw failure;
    const matching = (this.messages.get(channel) ?? []).filter((message) => message.timestamp >= startMs);
    return this.page(matching, 0, limit);
  }

  async listChannels(prefix: string): Promise<string[]> {
    const failure = this.failListing.get(prefix);
    if (failure) throw failure;
    return this.channelsByPrefix.get(prefix) ?? [];
  }

  private page(matching: HistoryMessage[], offset: number, limit: number): HistoryPage {
    this.onPage();
    this.pagesServed++;
    const items = matching.slice(offset, offset + limit).map((message) => ({ ...message }));
    const nextOffset = offset + limit;
    return {
      items,
      next: async () => (nextOffset < matching.length ? this.page(matching, nextOffset, limit) : undefined),
    };
  }
}

/** Store-once by event id, like the inbound pipeline's conditional put. */
class FakeStoreOnce {
  readonly stored = new Map<string, QueuedEvent>();
  readonly failFor = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;
  readonly storeOnce: StoreOnce = async (event) => {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failFor.has(event.providerEventId)) throw new Error(`table unavailable for ${event.providerEventId}`);
      if (this.stored.has(event.id)) return 'duplicate';
      this.stored.set(event.id, event);
      return 'stored';
    } finally {
      this.inFlight--;
    }
  };
  record(providerEventId: string): AblyMessageRecord {
    const event = this.stored.get(eventIdFor(SOURCE_ID, providerEventId));
    if (!event) throw new Error(`${providerEventId} was not stored`);
    return JSON.parse(event.body) as AblyMessageRecord;
  }
}

let clock: number;
let reader: FakeHistoryReader;
let state: InMemorySyncStateStore;
let store: FakeStoreOnce;
let runCounter: number;

beforeEach(() => {
  clock = T0;
  reader = new FakeHistoryReader();
  state = new InMemorySyncStateStore();
  store = new FakeStoreOnce();
  runCounter = 0;
});

function ablySource(history: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return source({ id: SOURCE_ID, preset: 'ably', secret: { env: 'ABLY_API_KEY' }, options: { history, ...extra } });
}

function deps(overrides: Partial<AblySyncDeps> = {}): AblySyncDeps {
  return { reader, state, storeOnce: store.storeOnce, now: () => clock, newRunId: () => `run-${++runCounter}`, ...overrides };
}

function request(overrides: Partial<AblySyncRequest> = {}): AblySyncRequest {
  return {
    source: ablySource({ channels: ['smartadmin-status'] }),
    trigger: 'schedule',
    deadlineMs: clock + 240_000,
    runExpiresAt: Math.floor(T0 / 1000) + 86_400,
    ...overrides,
  };
}

describe('runAblySync', () => {
  it('reads a new channel from lookBackHours ago, stores every message as a history record and moves the cursor to the newest', async () => {
    const lookBackStart = T0 - 24 * 3_600_000;
    reader.add('smartadmin-status', 1, lookBackStart - 1, 'too-old');
    reader.add('smartadmin-status', 2_500, lookBackStart);

    const run = await runAblySync(request(), deps());

    expect(reader.historyCalls).toEqual([{ channel: 'smartadmin-status', startMs: lookBackStart, limit: 1000 }]);
    expect(run).toMatchObject({ runId: 'run-1', source: SOURCE_ID, trigger: 'schedule', outcome: 'ok', pages: 3, seen: 2_500, stored: 2_500, duplicates: 0, errors: [] });
    expect(run.channels).toEqual([{ channel: 'smartadmin-status', status: 'done', pages: 3, seen: 2_500, stored: 2_500, duplicates: 0, cursorMs: lookBackStart + 2_499 }]);
    expect(state.cursorOf(SOURCE_ID, 'smartadmin-status')).toBe(lookBackStart + 2_499);
    expect(store.stored.size).toBe(2_500);

    const event = store.stored.get(eventIdFor(SOURCE_ID, 'smartadmin-status-7'))!;
    expect(event).toMatchObject({ source: SOURCE_ID, providerEventId: 'smartadmin-status-7', type: 'channel.message', channel: 'ably:smartadmin-status', requestId: 'run-1', headers: {}, payloadFormat: 'json' });
    expect(JSON.parse(event.body)).toEqual({
      kind: 'message',
      messageId: 'smartadmin-status-7',
      channel: 'smartadmin-status',
      name: 'status-update',
      clientId: 'device-1',
      connectionId: 'conn-1',
      direction: 'received',
      data: { index: 7 },
      timestamp: lookBackStart + 7,
      receivedAt: new Date(T0).toISOString(),
      via: 'history',
    });
    // The run is saved with its expiry, and its lease is free again.
    expect(state.runs).toEqual([{ run, expiresAt: Math.floor(T0 / 1000) + 86_400 }]);
    expect(state.channels.get(`${SOURCE_ID}\u0000smartadmin-status`)?.leaseOwner).toBeUndefined();
  });

  it('re-reads overlapSeconds before the cursor: the overlap comes back as duplicates, only new messages are stored', async () => {
    reader.add('smartadmin-status', 100, T0 - 60_000);
    const first = await runAblySync(request(), deps());
    expect(first.stored).toBe(100);
    const cursor = T0 - 60_000 + 99;

    reader.add('smartadmin-status', 10, T0 + 1_000, 'late');
    clock = T0 + 300_000;
    const second = await runAblySync(request({ deadlineMs: clock + 240_000 }), deps());

    expect(reader.historyCalls[1]).toEqual({ channel: 'smartadmin-status', startMs: cursor - 30_000, limit: 1000 });
    // All 100 earlier messages lie within the 30 s overlap (1 ms apart): read again, not stored again.
    expect(second).toMatchObject({ outcome: 'ok', seen: 110, stored: 10, duplicates: 100 });
    expect(store.stored.size).toBe(110);
    expect(state.cursorOf(SOURCE_ID, 'smartadmin-status')).toBe(T0 + 1_009);
    expect(store.record('late-0')).toMatchObject({ via: 'history', receivedAt: new Date(T0 + 300_000).toISOString() });
  });

  it('moves the cursor only after a whole page is stored; a failing store fails the channel, keeps the cursor, and the run goes on', async () => {
    reader.add('a', 2_000, T0 - 10_000);
    reader.add('b', 5, T0 - 10_000);
    store.failFor.add('a-1500');

    const run = await runAblySync(request({ source: ablySource({ channels: ['a', 'b'] }) }), deps());

    const [a, b] = run.channels;
    expect(a).toMatchObject({ channel: 'a', status: 'failed', pages: 2, seen: 2_000, cursorMs: T0 - 10_000 + 999 });
    expect(a!.error).toContain('table unavailable for a-1500');
    // Page 1 stored in full, page 2 partly (up to the failure and what was in flight): never the cursor past page 1.
    expect(a!.stored).toBeGreaterThanOrEqual(1_500);
    expect(a!.stored).toBeLessThan(2_000);
    expect(state.cursorOf(SOURCE_ID, 'a')).toBe(T0 - 10_000 + 999);
    expect(b).toMatchObject({ channel: 'b', status: 'done', stored: 5 });
    expect(run.outcome).toBe('partial');
    expect(run.errors).toEqual([expect.stringMatching(/^channel a: .*table unavailable for a-1500/)]);
    expect(run.stored).toBe(a!.stored + 5);
    // Both leases were released, the failed channel's too.
    expect(state.calls.filter((call) => call.method === 'releaseLease').map((call) => call.channel)).toEqual(['a', 'b']);

    // Once the store works again, the next run re-reads the failed page and stores the rest.
    store.failFor.clear();
    clock += 300_000;
    const retry = await runAblySync(request({ source: ablySource({ channels: ['a', 'b'] }), deadlineMs: clock + 240_000 }), deps());
    expect(retry.outcome).toBe('ok');
    expect(store.stored.size).toBe(2_005);
    expect(state.cursorOf(SOURCE_ID, 'a')).toBe(T0 - 10_000 + 1_999);
  });

  it('stores with bounded concurrency', async () => {
    reader.add('smartadmin-status', 200, T0 - 1_000);
    await runAblySync(request(), deps({ storeConcurrency: 4 }));
    expect(store.maxInFlight).toBe(4);
    expect(store.stored.size).toBe(200);
  });

  it('skips a channel whose lease another run holds, as busy, without reading it', async () => {
    reader.add('a', 3, T0 - 1_000);
    reader.add('b', 3, T0 - 1_000);
    state.holdLease(SOURCE_ID, 'a', 'other-run', T0 + 60_000);

    const run = await runAblySync(request({ source: ablySource({ channels: ['a', 'b'] }) }), deps());

    expect(run.channels.map((channel) => [channel.channel, channel.status])).toEqual([['a', 'busy'], ['b', 'done']]);
    expect(reader.historyCalls.map((call) => call.channel)).toEqual(['b']);
    expect(run).toMatchObject({ outcome: 'partial', errors: [] });
    // The other run's lease is untouched.
    expect(state.channels.get(`${SOURCE_ID}\u0000a`)).toMatchObject({ leaseOwner: 'other-run', leaseUntil: T0 + 60_000 });
  });

  it('takes a lease that lasts the remaining budget plus the margin, and an expired lease over', async () => {
    reader.add('a', 1, T0 - 1_000);
    state.holdLease(SOURCE_ID, 'a', 'crashed-run', T0 - 1);
    let leaseUntil: number | undefined;
    const acquire = state.acquireLease.bind(state);
    state.acquireLease = async (...args) => {
      leaseUntil = args[4];
      return acquire(...args);
    };
    const run = await runAblySync(request({ source: ablySource({ channels: ['a'] }), deadlineMs: T0 + 100_000 }), deps({ leaseMs: 30_000 }));
    expect(run.channels[0]).toMatchObject({ status: 'done', stored: 1 });
    expect(leaseUntil).toBe(T0 + 130_000);
  });

  it('fails the channel, without moving the cursor, when its lease was lost mid-run', async () => {
    reader.add('a', 1_500, T0 - 10_000);
    let pages = 0;
    reader.onPage = () => {
      // After the first page is answered, another run takes the lease over (as if this one had stalled past it).
      if (++pages === 2) state.holdLease(SOURCE_ID, 'a', 'usurper', T0 + 999_999);
    };
    const run = await runAblySync(request({ source: ablySource({ channels: ['a'] }) }), deps());
    expect(run.channels[0]).toMatchObject({ status: 'failed', pages: 2, cursorMs: T0 - 10_000 + 999 });
    expect(run.channels[0]!.error).toMatch(/lost the channel lease/);
    expect(state.cursorOf(SOURCE_ID, 'a')).toBe(T0 - 10_000 + 999);
    expect(run.outcome).toBe('failed');
    // Its release does not free the usurper's lease.
    expect(state.channels.get(`${SOURCE_ID}\u0000a`)?.leaseOwner).toBe('usurper');
  });

  it('stops at the deadline (no page started after it) and the next run resumes from the cursor to completion', async () => {
    reader.add('a', 3_500, T0 - 100_000);
    reader.add('b', 10, T0 - 100_000);
    // Each page takes 50 s: with a 120 s budget, three pages are read (done at 50, 100, 150 s); no fourth starts.
    reader.onPage = () => {
      clock += 50_000;
    };
    const sourceAB = ablySource({ channels: ['a', 'b'] });
    const first = await runAblySync(request({ source: sourceAB, deadlineMs: T0 + 120_000 }), deps());

    expect(first.channels).toEqual([
      { channel: 'a', status: 'stopped', pages: 3, seen: 3_000, stored: 3_000, duplicates: 0, cursorMs: T0 - 100_000 + 2_999 },
      { channel: 'b', status: 'stopped', pages: 0, seen: 0, stored: 0, duplicates: 0 },
    ]);
    expect(first.outcome).toBe('partial');
    expect(reader.pagesServed).toBe(3);

    clock = T0 + 300_000;
    const second = await runAblySync(request({ source: sourceAB, deadlineMs: clock + 600_000 }), deps());
    expect(second.channels.map((channel) => channel.status)).toEqual(['done', 'done']);
    expect(second.outcome).toBe('ok');
    expect(store.stored.size).toBe(3_510);
    expect(state.cursorOf(SOURCE_ID, 'a')).toBe(T0 - 100_000 + 3_499);
    expect(state.cursorOf(SOURCE_ID, 'b')).toBe(T0 - 100_000 + 9);
  });

  it('reads from sinceMs instead of the cursor, and never moves the cursor back', async () => {
    reader.add('smartadmin-status', 100, T0 - 50_000);
    await runAblySync(request(), deps());
    const cursor = T0 - 50_000 + 99;

    const run = await runAblySync(request({ sinceMs: T0 - 50_000 }), deps());

    expect(reader.historyCalls[1]!.startMs).toBe(T0 - 50_000);
    expect(run).toMatchObject({ outcome: 'ok', seen: 100, stored: 0, duplicates: 100 });
    expect(run.channels[0]!.cursorMs).toBe(cursor);
    expect(state.cursorOf(SOURCE_ID, 'smartadmin-status')).toBe(cursor);
    // No cursor write was needed for a re-read wholly behind the cursor.
    expect(state.calls.filter((call) => call.method === 'advanceCursor')).toHaveLength(1);
  });

  it('reads the configured channels and those found by prefix (filtered by channelFilter), each once; directions from the options', async () => {
    reader.channelsByPrefix.set('smartadmin-control-', ['smartadmin-control-1', 'smartadmin-control-2', 'smartadmin-control-1', 'smartadmin-control-skip']);
    reader.channelsByPrefix.set('smartadmin-', ['smartadmin-status', 'smartadmin-control-2']);
    for (const channel of ['smartadmin-status', 'smartadmin-control-1', 'smartadmin-control-2', 'smartadmin-control-skip']) reader.add(channel, 1, T0 - 1_000);

    const run = await runAblySync(
      request({
        source: ablySource({ channels: ['smartadmin-status'], channelPrefixes: ['smartadmin-control-', 'smartadmin-'] }, { channelFilter: '^smartadmin-(status|control-\\d+)$' }),
      }),
      deps(),
    );

    expect(run.channels.map((channel) => channel.channel)).toEqual(['smartadmin-status', 'smartadmin-control-1', 'smartadmin-control-2']);
    expect(run).toMatchObject({ outcome: 'ok', stored: 3 });
    expect(store.record('smartadmin-status-0').direction).toBe('received');
    expect(store.record('smartadmin-control-1-0').direction).toBe('sent');
  });

  it('reads only the requested channels when the request names them', async () => {
    reader.channelsByPrefix.set('x-', ['x-1']);
    reader.add('only', 2, T0 - 1_000);
    const run = await runAblySync(request({ source: ablySource({ channels: ['smartadmin-status'], channelPrefixes: ['x-'] }), channels: ['only', 'only'] }), deps());
    expect(run.channels.map((channel) => channel.channel)).toEqual(['only']);
    expect(reader.historyCalls.map((call) => call.channel)).toEqual(['only']);
  });

  it('keeps what the SDK leaves undecoded: an unknown encoding as is, bytes as base64', async () => {
    reader.messages.set('a', [
      { id: 'odd', data: 'opaque', encoding: 'cipher+aes-128-cbc', timestamp: T0 - 3 },
      { id: 'bytes', data: Buffer.from('hello'), encoding: null, timestamp: T0 - 2 },
      { id: 'plain', data: 'text', encoding: null, timestamp: T0 - 1 },
    ]);
    await runAblySync(request({ source: ablySource({ channels: ['a'] }) }), deps());
    expect(store.record('odd')).toMatchObject({ data: 'opaque', encoding: 'cipher+aes-128-cbc' });
    expect(store.record('bytes')).toMatchObject({ data: Buffer.from('hello').toString('base64'), encoding: 'base64' });
    expect(store.record('plain')).not.toHaveProperty('encoding');
  });

  describe('outcome', () => {
    it('is ok for a run with nothing to read', async () => {
      const run = await runAblySync(request({ source: ablySource({}) }), deps());
      expect(run).toMatchObject({ outcome: 'ok', channels: [], pages: 0, errors: [] });
    });

    it('is failed when no channel was read and there were errors (history and enumeration)', async () => {
      reader.failHistory.set('a', new Error('Ably error 50000: internal'));
      reader.failListing.set('p-', new Error('Ably error 42912: channel enumeration busy'));
      const run = await runAblySync(request({ source: ablySource({ channels: ['a'], channelPrefixes: ['p-'] }) }), deps());
      expect(run.outcome).toBe('failed');
      expect(run.errors).toEqual(["listing channels with prefix 'p-': Ably error 42912: channel enumeration busy", 'channel a: Ably error 50000: internal']);
      expect(run.channels[0]).toMatchObject({ status: 'failed', pages: 0, error: 'Ably error 50000: internal' });
      expect(state.runs).toHaveLength(1);
    });

    it('is partial when an enumeration failed but the configured channels were read', async () => {
      reader.add('a', 1, T0 - 1_000);
      reader.failListing.set('p-', new Error('Ably error 42912: busy'));
      const run = await runAblySync(request({ source: ablySource({ channels: ['a'], channelPrefixes: ['p-'] }) }), deps());
      expect(run.outcome).toBe('partial');
      expect(run.channels[0]!.status).toBe('done');
    });

    it('is partial when every channel is busy (another run is at work, nothing went wrong)', async () => {
      state.holdLease(SOURCE_ID, 'smartadmin-status', 'other', T0 + 60_000);
      const run = await runAblySync(request(), deps());
      expect(run).toMatchObject({ outcome: 'partial', errors: [] });
    });

    it('is failed when the deadline had passed before anything was read and a channel failed', async () => {
      reader.failHistory.set('a', new Error('boom'));
      reader.add('b', 1, T0 - 1_000);
      // The failing history call takes the whole budget.
      const failing = reader.history.bind(reader);
      reader.history = async (...args) => {
        clock += 300_000;
        return failing(...args);
      };
      const run = await runAblySync(request({ source: ablySource({ channels: ['a', 'b'] }) }), deps());
      expect(run.channels.map((channel) => channel.status)).toEqual(['failed', 'stopped']);
      expect(run.outcome).toBe('failed');
    });
  });

  it('saves the run with totals over its channels and its timing', async () => {
    reader.add('a', 3, T0 - 1_000);
    reader.add('b', 4, T0 - 1_000);
    reader.onPage = () => {
      clock += 1_000;
    };
    const run = await runAblySync(request({ source: ablySource({ channels: ['a', 'b'] }), trigger: 'manual' }), deps());
    expect(run).toMatchObject({ trigger: 'manual', pages: 2, seen: 7, stored: 7, duplicates: 0, startedAt: new Date(T0).toISOString(), finishedAt: new Date(T0 + 2_000).toISOString(), durationMs: 2_000 });
    expect(await state.listRuns({ source: SOURCE_ID, limit: 5 })).toEqual([run]);
  });

  it('refuses a source that is not an ably source', async () => {
    const other = source({ id: 'gh', verification: { scheme: 'none' }, insecure: true });
    await expect(runAblySync(request({ source: other }), deps())).rejects.toThrow(/does not use the ably preset/);
  });
});
