/**
 * Ably benchmark (`npm run bench -- --only ably`): the `ably` preset through fresh local runtimes whose config holds
 * the `demo` source and an Ably source (history timer off), reading history from a loopback stand-in of Ably's REST
 * API (test/fixtures/fake-ably-rest.ts) in this process. Baselines are measured in the same run.
 * HOOKHUB_BENCH_ABLY_SCALE=0.1 scales the counts down for a quick look.
 *
 *  1. a signed 1,000-message batch's ingest time (POST start → 202), one batch after another, against the same
 *     bodies POSTed to the bare 202 server (bench/baseline-server.ts);
 *  2. stored messages/s from webhook batches (2 at a time, until the message log holds them all), against the same
 *     runtime's generic single-event path end to end (signed Standard Webhooks requests to /hooks/demo until the
 *     inbound queue is empty), the two alternating;
 *  3. stored messages/s from a history sync (`POST /api/sync/ably`) of messages only history holds, then the rate of a
 *     second sync over the same messages, all already stored; each against (2)'s webhook rate.
 * Every loop is bounded in count and time; all traffic stays on 127.0.0.1.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/bundling';
import { signStandardWebhook } from '../lambdas/core/verification/standard-webhooks';
import { startFakeAblyRest, type FakeAblyRest, type WireMessage } from '../test/fixtures/fake-ably-rest';

/** HOOKHUB_BENCH_ABLY_SCALE=0.1 runs a tenth of the batches and messages, for a quick look; BENCHMARKS.md uses 1. */
const SCALE = Number(process.env.HOOKHUB_BENCH_ABLY_SCALE ?? 1);
const scaled = (count: number, minimum = 1) => Math.max(minimum, Math.round(count * SCALE));

const KEY_NAME = 'hookhubBench.benchKey';
const KEY_SECRET = 'hookhub-bench-ably-key-secret-0123456789';
const API_KEY = `${KEY_NAME}:${KEY_SECRET}`;
const KEY_VARIABLE = 'HOOKHUB_BENCH_ABLY_KEY';
const CHANNEL_PREFIX = 'bench-';
/** Ably's batch shape: items of `channel.message`, each holding some messages. 100 × 10 = 1,000 messages. */
const ITEMS_PER_BATCH = 100;
const MESSAGES_PER_ITEM = 10;
const MESSAGES_PER_BATCH = ITEMS_PER_BATCH * MESSAGES_PER_ITEM;
const STORE_CONCURRENCY = 2;
const DEMO_CONCURRENCY = 20;
const POLL_MS = 200;
const STORE_TIMEOUT_MS = 600_000;
/** History messages per channel, each channel synced by its own call (see syncRun). */
const HISTORY_CHANNEL_MESSAGES = 500;
/** A manual sync stops starting pages after 25 s (http-ably-api.ts); the bench resumes it, this many times at most. */
const MAX_SYNC_CALLS = 40;

/** The stored-rate runs alternate with their baseline, twice: the machine's speed drifts between runs minutes apart. */
const STORE_ROUNDS = 2;
const counts = {
  ingestBatches: scaled(20, 2),
  /** Per round: 5 × 2 rounds = 10 batches, 10,000 messages. */
  storeBatchesPerRound: scaled(5, 1),
  historyMessages: scaled(5_000, 100),
};

interface Hub {
  httpUrl: string;
  adminKey: string;
}

/** A fresh local runtime with these extra environment variables, and how to stop it. */
export type StartAblyHub = (environment: Record<string, string>) => Promise<Hub & { stop(): Promise<void> }>;
/** The bare server answering 202 to any POST (bench/baseline-server.ts), and how to stop it. */
export type StartBaseline = () => Promise<{ httpUrl: string; stop(): Promise<void> }>;

interface Timings {
  count: number;
  median: number;
  p90: number;
}

interface RateRun {
  count: number;
  seconds: number;
  perSecond: number;
}

interface SyncTotals {
  calls: number;
  seen: number;
  stored: number;
  duplicates: number;
  durationMs: number;
  perSecond: number;
}

export interface AblyResult {
  scale: number;
  ingest: { messagesPerBatch: number; bodyBytes: number; hub: Timings; baseline: Timings };
  webhook: RateRun & { batches: number };
  demo: RateRun;
  sync: { messages: number; channels: number; first: SyncTotals; second: SyncTotals };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function call<T>(hub: Hub, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const response = await fetch(`${hub.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${hub.adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function wireMessage(id: string, sequence: number, timestamp: number): WireMessage {
  return {
    id,
    name: 'status-update',
    clientId: 'bench-client',
    connectionId: 'bench-conn',
    timestamp,
    data: JSON.stringify({ device: `d-${sequence % 50}`, sequence, state: 'ok', load: (sequence % 97) / 97 }),
    encoding: 'json',
  };
}

/** A signed Ably batch of 100 items × 10 messages, every message id fresh (`tag` and the batch number). */
function signedBatch(tag: string, batch: number, channel: string): { body: string; headers: Record<string, string> } {
  const now = Date.now();
  const items = Array.from({ length: ITEMS_PER_BATCH }, (_, item) => ({
    webhookId: `wh-${tag}-${batch}-${item}`,
    source: 'channel.message',
    serial: `serial-${batch}-${item}`,
    timestamp: now,
    name: 'channel.message',
    data: {
      channelId: channel,
      site: 'eu-west-1-A',
      messages: Array.from({ length: MESSAGES_PER_ITEM }, (_, index) => {
        const sequence = item * MESSAGES_PER_ITEM + index;
        return wireMessage(`${tag}-${batch}-${sequence}`, sequence, now - 1_000);
      }),
    },
  }));
  const body = JSON.stringify({ items });
  const signature = createHmac('sha256', KEY_SECRET).update(body).digest('base64');
  return { body, headers: { 'content-type': 'application/json', 'x-ably-key': KEY_NAME, 'x-ably-signature': signature } };
}

/** POSTs one request; returns its POST start → response time, and refuses anything but a 202. */
async function timedPost(url: string, request: { body: string; headers: Record<string, string> }, expectAccepted?: number): Promise<number> {
  const start = performance.now();
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  const elapsed = performance.now() - start;
  if (response.status !== 202) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 300)}`);
  if (expectAccepted !== undefined) {
    const accepted = (JSON.parse(text) as { accepted?: number }).accepted;
    if (accepted !== expectAccepted) throw new Error(`POST ${url}: accepted ${accepted}, expected ${expectAccepted}`);
  }
  return elapsed;
}

/** Runs `work(0..count-1)` with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

async function totalMessages(hub: Hub): Promise<number> {
  return (await call<{ totalMessages: number }>(hub, 'GET', '/api/ably/stats', undefined, 10_000)).totalMessages;
}

/** Polls the message log until it holds `expected` messages (bounded); returns when it first did. */
async function waitForStored(hub: Hub, expected: number): Promise<number> {
  const deadline = performance.now() + STORE_TIMEOUT_MS;
  let last = 0;
  while (performance.now() < deadline) {
    last = await totalMessages(hub);
    if (last >= expected) return performance.now();
    await wait(POLL_MS);
  }
  throw new Error(`the message log held ${last} of ${expected} messages after ${STORE_TIMEOUT_MS / 1000} s`);
}

/** Messages in the inbound queue not yet processed (visible + in flight), as /health reports them. */
async function backlog(hub: Hub): Promise<number> {
  const health = await call<{ checks: { inboundQueue: { visible: number; inFlight: number } } }>(hub, 'GET', '/health', undefined, 10_000);
  return health.checks.inboundQueue.visible + health.checks.inboundQueue.inFlight;
}

/** Waits until the inbound queue is empty (bounded); returns when that happened. */
async function waitForDrain(hub: Hub): Promise<number> {
  const deadline = performance.now() + STORE_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if ((await backlog(hub)) === 0) return performance.now();
    await wait(100);
  }
  throw new Error(`the inbound queue did not drain in ${STORE_TIMEOUT_MS / 1000} s`);
}

function timings(samples: number[]): Timings {
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, median: percentile(sorted, 50), p90: percentile(sorted, 90) };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** 1. Batch after batch, each POSTed to the bare server and then to hookhub (alternating keeps drift out of the ratio). */
async function ingestRun(hub: Hub, baselineUrl: string, tag: string): Promise<AblyResult['ingest']> {
  const channel = `${CHANNEL_PREFIX}ingest`;
  const hubTimes: number[] = [];
  const baselineTimes: number[] = [];
  let bodyBytes = 0;
  console.error(`ably: ${counts.ingestBatches} signed batches of ${MESSAGES_PER_BATCH} messages, one after another…`);
  for (let batch = 0; batch < counts.ingestBatches; batch++) {
    const request = signedBatch(tag, batch, channel);
    bodyBytes = Buffer.byteLength(request.body);
    baselineTimes.push(await timedPost(`${baselineUrl}/hooks/ably`, request));
    hubTimes.push(await timedPost(`${hub.httpUrl}/hooks/ably`, request, MESSAGES_PER_BATCH));
  }
  return { messagesPerBatch: MESSAGES_PER_BATCH, bodyBytes, hub: timings(hubTimes), baseline: timings(baselineTimes) };
}

/** 2. Batches posted 2 at a time; first POST → the message log holding every one of their messages. */
async function webhookStoreRun(hub: Hub, tag: string, batches: number): Promise<RateRun> {
  const channel = `${CHANNEL_PREFIX}store`;
  const requests = Array.from({ length: batches }, (_, batch) => signedBatch(tag, batch, channel));
  const before = await totalMessages(hub);
  const expected = before + batches * MESSAGES_PER_BATCH;
  console.error(`ably: ${batches} batches of ${MESSAGES_PER_BATCH} messages, ${STORE_CONCURRENCY} at a time, until stored…`);
  const begin = performance.now();
  await pool(batches, STORE_CONCURRENCY, async (batch) => void (await timedPost(`${hub.httpUrl}/hooks/ably`, requests[batch]!, MESSAGES_PER_BATCH)));
  const stored = await waitForStored(hub, expected);
  const seconds = (stored - begin) / 1000;
  return { count: batches * MESSAGES_PER_BATCH, seconds, perSecond: (batches * MESSAGES_PER_BATCH) / seconds };
}

/** 2's baseline: as many single signed Standard Webhooks events to /hooks/demo, 20 at a time, until the queue is empty. */
async function demoRun(hub: Hub, demoSecret: string, events: number, tag: string): Promise<RateRun> {
  console.error(`ably: ${events} single events to /hooks/demo, ${DEMO_CONCURRENCY} at a time, until processed…`);
  const begin = performance.now();
  await pool(events, DEMO_CONCURRENCY, async (sequence) => {
    const body = JSON.stringify({ type: 'bench.event', sequence, channelTag: tag });
    const id = `msg_bench_${tag}_${sequence}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(demoSecret, id, timestamp, body),
    };
    await timedPost(`${hub.httpUrl}/hooks/demo`, { body, headers });
  });
  const drained = await waitForDrain(hub);
  const seconds = (drained - begin) / 1000;
  return { count: events, seconds, perSecond: events / seconds };
}

interface SyncRunView {
  outcome: string;
  durationMs: number;
  seen: number;
  stored: number;
  duplicates: number;
  errors: string[];
  channels: Array<{ channel: string; status: string }>;
}

/**
 * `POST /api/sync/ably` for one channel from `sinceMs` until the channel is read to its end. A manual sync stops
 * starting pages after 25 s; the next call resumes after the last message read (the messages are 1 s apart, so that
 * is `sinceMs + seen × 1 s`), which re-reads nothing.
 */
async function syncAll(hub: Hub, channel: string, firstTimestamp: number, expected: number): Promise<SyncTotals> {
  const totals: SyncTotals = { calls: 0, seen: 0, stored: 0, duplicates: 0, durationMs: 0, perSecond: NaN };
  while (totals.calls < MAX_SYNC_CALLS) {
    const run = await call<SyncRunView>(hub, 'POST', '/api/sync/ably', { channels: [channel], since: firstTimestamp + totals.seen * 1_000 }, 120_000);
    totals.calls++;
    totals.seen += run.seen;
    totals.stored += run.stored;
    totals.duplicates += run.duplicates;
    totals.durationMs += run.durationMs;
    const status = run.channels.find((result) => result.channel === channel)?.status;
    if (run.errors.length > 0 || (status !== 'done' && status !== 'stopped')) {
      throw new Error(`sync of ${channel}: outcome ${run.outcome}, status ${status}, errors: ${run.errors.join('; ')}`);
    }
    if (status === 'done' || totals.seen >= expected) break;
  }
  if (totals.seen !== expected) throw new Error(`sync of ${channel} read ${totals.seen} of ${expected} messages in ${totals.calls} calls`);
  totals.perSecond = (totals.stored + totals.duplicates) / (totals.durationMs / 1000);
  return totals;
}

function addTotals(totals: SyncTotals, run: SyncTotals): void {
  totals.calls += run.calls;
  totals.seen += run.seen;
  totals.stored += run.stored;
  totals.duplicates += run.duplicates;
  totals.durationMs += run.durationMs;
  totals.perSecond = (totals.stored + totals.duplicates) / (totals.durationMs / 1000);
}

/**
 * 3. M messages only history holds; a sync stores them, a second sync over them finds every one stored. They are
 * spread over channels of HISTORY_CHANNEL_MESSAGES, one call each: a call stops starting pages after 25 s but
 * finishes the page it is in, and at this machine's ~120 stored messages/s a 1,000-message page started just before
 * then ends past the 29 s handler timeout, which answers 500 (seen in a run of 5,000 messages on one channel).
 */
async function syncRun(hub: Hub, fake: FakeAblyRest, tag: string): Promise<AblyResult['sync']> {
  const messages = counts.historyMessages;
  const channels = Array.from({ length: Math.ceil(messages / HISTORY_CHANNEL_MESSAGES) }, (_, index) => {
    const count = Math.min(HISTORY_CHANNEL_MESSAGES, messages - index * HISTORY_CHANNEL_MESSAGES);
    // A second apart, ending a minute ago: inside the 24 h a channel with no cursor is read from.
    const firstTimestamp = Date.now() - 60_000 - count * 1_000;
    const channel = `${CHANNEL_PREFIX}history-${index}`;
    fake.addMessages(
      channel,
      Array.from({ length: count }, (_, sequence) => wireMessage(`${tag}-history-${index}-${sequence}`, sequence, firstTimestamp + sequence * 1_000)),
    );
    return { channel, count, firstTimestamp };
  });
  const empty = (): SyncTotals => ({ calls: 0, seen: 0, stored: 0, duplicates: 0, durationMs: 0, perSecond: NaN });
  const first = empty();
  const second = empty();
  const before = await totalMessages(hub);
  console.error(`ably: history sync of ${messages} messages (${channels.length} channels)…`);
  for (const { channel, count, firstTimestamp } of channels) addTotals(first, await syncAll(hub, channel, firstTimestamp, count));
  if (first.stored !== messages) throw new Error(`the first sync stored ${first.stored} of ${messages} messages`);
  const after = await totalMessages(hub);
  if (after - before !== messages) throw new Error(`the message log grew by ${after - before} during the sync, expected ${messages}`);
  console.error('ably: history sync again, every message already stored…');
  for (const { channel, count, firstTimestamp } of channels) addTotals(second, await syncAll(hub, channel, firstTimestamp, count));
  if (second.duplicates !== messages) throw new Error(`the second sync found ${second.duplicates} of ${messages} messages already stored`);
  return { messages, channels: channels.length, first, second };
}

/** The `demo` source as hookhub.config.json declares it, beside an Ably source with its history timer off. */
function writeConfig(directory: string): string {
  const projectConfig = JSON.parse(readFileSync(join(PROJECT_ROOT, 'hookhub.config.json'), 'utf8')) as { sources: Array<{ id: string }> };
  const demo = projectConfig.sources.find((source) => source.id === 'demo');
  if (!demo) throw new Error('hookhub.config.json has no demo source');
  const config = {
    sources: [
      demo,
      {
        id: 'ably',
        description: 'Ably benchmark source (bench/ably.ts)',
        preset: 'ably',
        secret: { env: KEY_VARIABLE },
        options: { channelFilter: `^${CHANNEL_PREFIX}`, history: { intervalMinutes: 0 } },
      },
    ],
  };
  const path = join(directory, 'hookhub.config.json');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/** Sums runs of one kind: total count ÷ total seconds. */
function combined(runs: readonly RateRun[]): RateRun {
  const count = runs.reduce((sum, run) => sum + run.count, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  return { count, seconds, perSecond: count / seconds };
}

/**
 * Two fresh runtimes. The first takes the ingest batches and is then stopped with their messages still queued: storing
 * 20,000 messages nobody times would double the section's run time, and a store-rate run must not start behind a
 * backlog nor on a table that earlier runs grew. The second takes the stored-rate runs and the history sync.
 */
export async function ablyBenchmark(options: { startHub: StartAblyHub; startBaseline: StartBaseline; demoSecret: string }): Promise<AblyResult> {
  const directory = mkdtempSync(join(tmpdir(), 'hookhub-bench-ably-'));
  const stops: Array<() => Promise<void>> = [];
  const stopLast = async () => {
    const stop = stops.pop();
    await stop?.().catch((error: unknown) => console.error('ably bench: stopping failed:', error));
  };
  try {
    const fake = await startFakeAblyRest({ apiKey: API_KEY });
    stops.push(() => fake.close());
    const environment = { HOOKHUB_CONFIG: writeConfig(directory), [KEY_VARIABLE]: API_KEY, HOOKHUB_ABLY_REST_URL: fake.url };
    const tag = `b${Date.now().toString(36)}`;

    const baseline = await options.startBaseline();
    stops.push(() => baseline.stop());
    const ingestHub = await options.startHub(environment);
    stops.push(() => ingestHub.stop());
    const ingest = await ingestRun(ingestHub, baseline.httpUrl, `${tag}i`);
    await stopLast();
    await stopLast();

    const hub = await options.startHub(environment);
    stops.push(() => hub.stop());
    const demoRuns: RateRun[] = [];
    const webhookRuns: RateRun[] = [];
    for (let round = 0; round < STORE_ROUNDS; round++) {
      demoRuns.push(await demoRun(hub, options.demoSecret, counts.storeBatchesPerRound * MESSAGES_PER_BATCH, `${tag}d${round}`));
      webhookRuns.push(await webhookStoreRun(hub, `${tag}s${round}`, counts.storeBatchesPerRound));
      await waitForDrain(hub);
    }
    const sync = await syncRun(hub, fake, `${tag}h`);
    return {
      scale: SCALE,
      ingest,
      webhook: { ...combined(webhookRuns), batches: STORE_ROUNDS * counts.storeBatchesPerRound },
      demo: combined(demoRuns),
      sync,
    };
  } finally {
    while (stops.length > 0) await stopLast();
    rmSync(directory, { recursive: true, force: true });
  }
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const thousands = (value: number) => value.toLocaleString('en-US');

export function ablyReport(result: AblyResult): string {
  const { ingest, webhook, demo, sync } = result;
  const scaleNote = result.scale === 1 ? '' : ` Counts scaled by HOOKHUB_BENCH_ABLY_SCALE=${result.scale}.`;
  const perRound = webhook.batches / STORE_ROUNDS;
  const syncRow = (label: string, run: SyncTotals, what: string, count: number) =>
    `| ${label} | **${fmt(run.perSecond, 0)}** ${what}/s (${thousands(count)} in ${fmt(run.durationMs / 1000)} s, ${run.calls} call${run.calls === 1 ? '' : 's'}) | webhook batches: ${fmt(webhook.perSecond, 0)} messages/s | **${fmt(run.perSecond / webhook.perSecond, 3)}** |`;
  return `## Ably messages

The \`ably\` preset through the local runtime (config: \`demo\` and an Ably source, history timer off; history from a
loopback stand-in of Ably's REST API read by the real ably SDK).${scaleNote} **Ingest**: ${ingest.hub.count} signed batches of Ably's shape
(${ITEMS_PER_BATCH} items × ${MESSAGES_PER_ITEM} messages, fresh ids, ${fmt(ingest.bodyBytes / 1024, 0)} KiB, HMAC-SHA256 \`X-Ably-Signature\`), one after another, POST start → 202,
while the worker stores the earlier ones; baseline: each body POSTed just before to the bare 202 server. That runtime
is then stopped with its backlog and a fresh one takes the rest. **Webhook stored rate**: batches ${STORE_CONCURRENCY} at a time, first POST →
\`GET /api/ably/stats\` counting all their messages; baseline: as many signed requests to \`/hooks/demo\` (${DEMO_CONCURRENCY} at a time)
until the inbound queue is empty; the two alternate, ${STORE_ROUNDS} rounds of ${thousands(perRound * MESSAGES_PER_BATCH)} each. **History sync**: ${thousands(sync.messages)} messages only
history holds, on ${sync.channels} channel${sync.channels === 1 ? '' : 's'} of ≤ ${HISTORY_CHANNEL_MESSAGES}, one \`POST /api/sync/ably {"channels": [name]}\` each (a call reading 1,000 or more can
outlast the API's 29 s timeout here); time is the runs' summed \`durationMs\`. Then the same again, every message
already stored: what a sync that finds nothing new costs.

| | hookhub | baseline (same run) | ratio |
| --- | ---: | ---: | ---: |
| ${thousands(ingest.messagesPerBatch)}-message signed batch, POST → 202 | **${fmt(ingest.hub.median)} ms** median, p90 ${fmt(ingest.hub.p90)} ms (${fmt(ingest.hub.median / ingest.messagesPerBatch, 3)} ms a message) | bare 202: ${fmt(ingest.baseline.median)} ms median, p90 ${fmt(ingest.baseline.p90)} ms | **${fmt(ingest.hub.median / ingest.baseline.median, 1)}** (p90 ${fmt(ingest.hub.p90 / ingest.baseline.p90, 1)}) |
| stored messages/s, webhook batches | **${fmt(webhook.perSecond, 0)}** messages/s (${thousands(webhook.count)} in ${fmt(webhook.seconds)} s) | \`/hooks/demo\` end to end: ${fmt(demo.perSecond, 0)} events/s (${thousands(demo.count)} in ${fmt(demo.seconds)} s) | **${fmt(webhook.perSecond / demo.perSecond, 3)}** |
${syncRow('stored messages/s, history sync', sync.first, 'messages', sync.first.stored)}
${syncRow('history sync finding all stored', sync.second, 'duplicates', sync.second.duplicates)}
`;
}
