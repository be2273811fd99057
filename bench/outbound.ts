/**
 * Outbound delivery benchmark (`npm run bench -- --only outbound`): messages published through the local runtime's
 * management API and delivered by its delivery worker to a loopback receiver that verifies every request with the
 * official `standardwebhooks` library. Baseline in the same run: the bare receiver's own requests/s (autocannon,
 * signed requests, the same verification), the most any sender could deliver to it here.
 *
 *  1. 1 endpoint × 10,000 messages; 2. 100 endpoints × 1,000 messages (each message to all 100); 3. the same with
 *  one of the 100 endpoints never answering (the others' rate beside run 2's); 4. publish→receipt latency at 100
 *  messages/s to one endpoint.
 * Every loop is bounded in count and time; all traffic stays on 127.0.0.1.
 */
import autocannon from 'autocannon';
import { signStandardWebhook } from '../lambdas/core/verification/standard-webhooks';
import { WebhookReceiver } from '../test/fixtures/webhook-receiver';

const PUBLISH_CONCURRENCY = 32;
const LATENCY_RATE = 100;
const LATENCY_SECONDS = 10;
const BASELINE_SECONDS = 5;
const DRAIN_TIMEOUT_MS = 600_000;
/** HOOKHUB_BENCH_OUTBOUND_SCALE=0.1 runs a tenth of the messages, for a quick look; BENCHMARKS.md uses 1. */
const SCALE = Number(process.env.HOOKHUB_BENCH_OUTBOUND_SCALE ?? 1);
const scaled = (count: number) => Math.max(1, Math.round(count * SCALE));

interface Hub {
  httpUrl: string;
  adminKey: string;
}

/** A fresh local runtime (its own data dir) for one run, and how to stop it. */
export type StartHub = () => Promise<Hub & { stop(): Promise<void> }>;

export interface DeliveryRun {
  label: string;
  messages: number;
  endpoints: number;
  deliveries: number;
  /** Verified deliveries at the receiver (to the healthy endpoints). */
  verified: number;
  publishPerSecond: number;
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  seconds: number;
}

export interface OutboundResult {
  baselinePerSecond: number;
  runs: DeliveryRun[];
  /** Healthy endpoints' rate with one endpoint timing out ÷ the rate of the same run without it. */
  slowEndpointRatio: number;
  latency: { rate: number; sent: number; delivered: number; p50: number; p99: number; max: number };
}

async function call<T>(hub: Hub, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${hub.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${hub.adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function createEndpoints(hub: Hub, receiver: WebhookReceiver, prefix: string, count: number, eventType: string): Promise<string[]> {
  const paths: string[] = [];
  for (let index = 0; index < count; index++) {
    const path = `/${prefix}/${index}`;
    const created = await call<{ id: string; secret: string }>(hub, 'POST', '/api/endpoints', { url: receiver.url(path), eventTypes: [eventType] });
    receiver.setSecrets(path, [created.secret]);
    paths.push(path);
  }
  return paths;
}

/** Publishes `count` messages with bounded concurrency; returns each message id's publish start time. */
async function publishAll(hub: Hub, eventType: string, count: number): Promise<{ sentAt: Map<string, number>; seconds: number }> {
  const sentAt = new Map<string, number>();
  let next = 0;
  const begin = performance.now();
  const worker = async () => {
    while (next < count) {
      const sequence = next++;
      const started = performance.timeOrigin + performance.now();
      const { id } = await call<{ id: string }>(hub, 'POST', '/api/messages', { eventType, payload: { sequence, note: 'hookhub outbound bench' } });
      sentAt.set(id, started);
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, worker));
  return { sentAt, seconds: (performance.now() - begin) / 1000 };
}

async function waitForDeliveries(receiver: WebhookReceiver, paths: ReadonlySet<string>, expected: number, from: number): Promise<void> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (countAt(receiver, paths, from) < expected) {
    if (performance.now() > deadline) throw new Error(`only ${countAt(receiver, paths, from)} of ${expected} deliveries arrived in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function countAt(receiver: WebhookReceiver, paths: ReadonlySet<string>, from: number): number {
  let count = 0;
  for (let index = from; index < receiver.deliveries.length; index++) if (paths.has(receiver.deliveries[index]!.path)) count++;
  return count;
}

async function deliveryRun(hub: Hub, receiver: WebhookReceiver, label: string, endpoints: number, messages: number, slowEndpoint: boolean): Promise<DeliveryRun> {
  const tag = label.replace(/[^a-z0-9]/gi, '').toLowerCase();
  const eventType = `bench.${tag}`;
  const paths = await createEndpoints(hub, receiver, tag, endpoints, eventType);
  if (slowEndpoint) receiver.script(paths[0]!, [], { status: 200, hang: true });
  const healthy = new Set(slowEndpoint ? paths.slice(1) : paths);
  const from = receiver.deliveries.length;
  const begin = performance.timeOrigin + performance.now();
  console.error(`outbound: ${label}…`);
  const published = await publishAll(hub, eventType, messages);
  const expected = healthy.size * messages;
  await waitForDeliveries(receiver, healthy, expected, from);
  const arrived = receiver.deliveries.slice(from).filter((delivery) => healthy.has(delivery.path));
  const end = Math.max(...arrived.map((delivery) => delivery.receivedAt));
  const latencies = arrived.map((delivery) => delivery.receivedAt - published.sentAt.get(delivery.headers['webhook-id']!)!).sort((a, b) => a - b);
  const seconds = (end - begin) / 1000;
  return {
    label,
    messages,
    endpoints,
    deliveries: expected,
    verified: arrived.filter((delivery) => delivery.verifiedWith[0]).length,
    publishPerSecond: messages / published.seconds,
    deliveriesPerSecond: expected / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    seconds,
  };
}

async function latencyRun(hub: Hub, receiver: WebhookReceiver): Promise<OutboundResult['latency']> {
  const [path] = await createEndpoints(hub, receiver, 'latency', 1, 'bench.latency');
  const from = receiver.deliveries.length;
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const sentAt = new Map<string, number>();
  const publishes: Promise<void>[] = [];
  console.error(`outbound: latency at ${LATENCY_RATE}/s…`);
  const begin = performance.now();
  for (let sequence = 0; sequence < total; sequence++) {
    const wait = begin + (sequence * 1000) / LATENCY_RATE - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = performance.timeOrigin + performance.now();
    publishes.push(call<{ id: string }>(hub, 'POST', '/api/messages', { eventType: 'bench.latency', payload: { sequence } }).then(({ id }) => void sentAt.set(id, started)));
  }
  await Promise.all(publishes);
  const paths = new Set([path!]);
  await waitForDeliveries(receiver, paths, total, from).catch(() => undefined);
  const latencies = receiver.deliveries
    .slice(from)
    .filter((delivery) => delivery.path === path && delivery.verifiedWith[0])
    .map((delivery) => delivery.receivedAt - sentAt.get(delivery.headers['webhook-id']!)!)
    .sort((a, b) => a - b);
  return { rate: LATENCY_RATE, sent: total, delivered: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN };
}

/** The bare receiver's requests/s: signed POSTs it verifies with the same library, no hookhub in between. */
async function baselineRun(receiver: WebhookReceiver): Promise<number> {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  receiver.setSecrets('/baseline', [secret]);
  const body = JSON.stringify({ sequence: 0, note: 'hookhub outbound bench' });
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'webhook-id': 'msg_baseline',
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(secret, 'msg_baseline', timestamp, body),
  };
  console.error('outbound: bare receiver…');
  const from = receiver.deliveries.length;
  const result = await autocannon({ url: receiver.url('/baseline'), method: 'POST', headers, body, connections: 20, duration: BASELINE_SECONDS });
  const verified = receiver.deliveries.slice(from).filter((delivery) => delivery.verifiedWith[0]).length;
  if (verified === 0) throw new Error('the baseline requests did not verify');
  return result.requests.average;
}

/**
 * Each run gets a fresh runtime: one local runtime taking run after run slows down as dynalite's LevelDB grows (a
 * delivery writes two or three items; 400,000 deliveries made the fourth run half as fast as the first), which
 * would measure the order of the runs rather than the delivery path.
 */
export async function outboundBenchmark(startHub: StartHub): Promise<OutboundResult> {
  const receiver = new WebhookReceiver({ keepContent: false });
  await receiver.listen();
  const onFreshHub = async <T>(run: (hub: Hub) => Promise<T>): Promise<T> => {
    const hub = await startHub();
    try {
      return await run(hub);
    } finally {
      await hub.stop();
    }
  };
  try {
    const baselinePerSecond = await baselineRun(receiver);
    const single = await onFreshHub((hub) => deliveryRun(hub, receiver, `1 endpoint × ${scaled(10_000)}`, 1, scaled(10_000), false));
    // Healthy and timing-out runs alternate, twice: the machine's speed drifts by tens of percent between runs a
    // few minutes apart, and alternating keeps that drift out of the ratio.
    const pairs: DeliveryRun[][] = [];
    for (const round of [1, 2]) {
      const many = await onFreshHub((hub) => deliveryRun(hub, receiver, `100 endpoints × ${scaled(1_000)} (round ${round})`, 100, scaled(1_000), false));
      const slow = await onFreshHub((hub) => deliveryRun(hub, receiver, `100 endpoints × ${scaled(1_000)}, one timing out (round ${round})`, 100, scaled(1_000), true));
      pairs.push([many, slow]);
    }
    const latency = await onFreshHub((hub) => latencyRun(hub, receiver));
    const rate = (runs: DeliveryRun[]) => runs.reduce((sum, run) => sum + run.deliveries, 0) / runs.reduce((sum, run) => sum + run.seconds, 0);
    return {
      baselinePerSecond,
      runs: [single, ...pairs.flat()],
      slowEndpointRatio: rate(pairs.map(([, slow]) => slow!)) / rate(pairs.map(([many]) => many!)),
      latency,
    };
  } finally {
    await receiver.close();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function outboundReport(result: OutboundResult): string {
  const rows = result.runs
    .map(
      (run) =>
        `| ${run.label} | ${run.deliveries} | ${run.verified} | ${fmt(run.publishPerSecond, 0)} | **${fmt(run.deliveriesPerSecond, 0)}** | ${fmt(run.deliveriesPerSecond / result.baselinePerSecond, 3)} | ${fmt(run.p50, 0)} | ${fmt(run.p99, 0)} | ${fmt(run.seconds)} |`,
    )
    .join('\n');
  const { latency } = result;
  return `## Outbound deliveries

Messages published with \`POST /api/messages\` (${PUBLISH_CONCURRENCY} at a time) through the local runtime and delivered
by its delivery worker (its own thread: SQS receive, sign, POST, record) to a loopback receiver that verifies every
request with the \`standardwebhooks\` library. Deliveries/s = verified deliveries ÷ (last arrival − first publish).
Latency is publish start → arrival at the receiver. Baseline: the bare receiver's own requests/s under autocannon
(20 connections, ${BASELINE_SECONDS} s, the same signed body and verification), the most any sender could deliver to it here.
The timing-out endpoint never answers: each try to it waits the full 15 s timeout, until the circuit breaker
disables it after 5 failures; its rows count only the 99 healthy endpoints.

| run | deliveries | verified | publish/s | deliveries/s | ratio to bare receiver (${fmt(result.baselinePerSecond, 0)} req/s) | p50 ms | p99 ms | seconds |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows}

With one endpoint timing out, the 99 others were delivered at **${fmt(result.slowEndpointRatio, 3)}×** the rate of the runs
without it (both rounds together: deliveries ÷ seconds).

Publish→receipt latency at ${latency.rate} messages/s for ${LATENCY_SECONDS} s to one endpoint: ${latency.delivered} / ${latency.sent}
delivered, p50 **${fmt(latency.p50)} ms**, p99 **${fmt(latency.p99)} ms**, max ${fmt(latency.max)} ms.
`;
}
