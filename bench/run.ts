/**
 * `npm run bench`: measures hookhub against baselines taken in the same run and writes BENCHMARKS.md.
 *  1. ingest throughput: signed requests through the local runtime vs a bare Node server answering 202;
 *  2. POST → WebSocket latency at fixed rates vs a bare HTTP→WebSocket relay;
 *  3. each Lambda bundle's size, cold import time and memory vs an empty bundle (what a cold start pays);
 *  4. AWS requests and units per inbound event and dollars per million at list prices (bench/aws-cost/); set
 *     HOOKHUB_BENCH_COST_BEFORE=<git ref> to meter that commit's handlers beside this checkout's in the same run.
 * All traffic stays on loopback; every loop is bounded in count and time.
 *
 * `npm run bench -- --only cold-start [--runs N] [--compare <git ref>]` runs section 3 alone and prints its table
 * without writing BENCHMARKS.md; `--compare` measures another commit's bundles side by side (bench/cold-start.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { PROJECT_ROOT } from '../lib/bundling';
import { coldStart, coldStartTable } from './cold-start';
import { signStandardWebhook } from '../lambdas/core/verification/standard-webhooks';
import { checkoutOf, costSection, runMeter } from './aws-cost/report';

const SECRET = 'whsec_aG9va2h1Yi1sb2NhbC1kZXZlbG9wbWVudC1vbmx5';
const ADMIN_KEY = 'bench-admin-key-0123456789';
const THROUGHPUT_SECONDS = 10;
const CONNECTIONS = 20;
const LATENCY_RATES = [100, 500];
const LATENCY_SECONDS = 10;
const COLD_START_RUNS = 9;

interface Server {
  child: ChildProcess;
  httpUrl: string;
  wsUrl: string;
}

function startProcess(args: string[], readyPrefix: string, environment: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', WS_PORT: '0', ...environment },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = new RegExp(`^${readyPrefix} (.+)$`, 'm').exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, ...(JSON.parse(match[1]!) as { httpUrl: string; wsUrl: string }) });
      }
    });
  });
}

function signedRequest(sequence: number, channelTag: string) {
  const body = JSON.stringify({ type: 'bench.event', sequence, channelTag });
  const id = `msg_bench_${channelTag}_${sequence}`;
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(SECRET, id, timestamp, body),
    },
  };
}

async function throughput(url: string, path: string) {
  // autocannon walks a `requests` array from the start for each connection, so a fixed list of N events sends
  // about N ÷ connections distinct ones and the rest are cheap duplicates. One request whose setupRequest signs a
  // fresh event each time gives every request its own id.
  let sequence = 0;
  const tag = `t${Date.now()}`;
  const requests = [{ method: 'POST' as const, path, setupRequest: (request: object) => ({ ...request, ...signedRequest(sequence++, tag) }) }];
  const result = await autocannon({ url, connections: CONNECTIONS, duration: THROUGHPUT_SECONDS, requests });
  return {
    accepted: result['2xx'],
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Waits until the inbound queue is empty (bounded); returns when that happened. */
async function waitForDrain(httpUrl: string, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const response = await fetch(`${httpUrl}/health`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: AbortSignal.timeout(5_000) });
    const health = (await response.json()) as { checks: { inboundQueue: { visible: number; inFlight: number } } };
    if (health.checks.inboundQueue.visible + health.checks.inboundQueue.inFlight === 0) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the inbound queue did not drain in time');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sends `rate` events/s for LATENCY_SECONDS and measures POST-start → WebSocket-arrival per event. */
async function pushLatency(target: { postUrl: string; wsUrl: string; signed: boolean }, rate: number) {
  const socket = new WebSocket(target.wsUrl);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { event?: { payload: { sequence: number } }; sequence?: number };
    const sequence = message.event?.payload.sequence ?? message.sequence;
    const start = sequence === undefined ? undefined : sentAt.get(sequence);
    if (start !== undefined) latencies.push(performance.now() - start);
  });
  const total = rate * LATENCY_SECONDS;
  const tag = `r${rate}_${Date.now()}`;
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  const begin = performance.now();
  for (let sequence = 0; sequence < total; sequence++) {
    const due = begin + (sequence * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const request = target.signed ? signedRequest(sequence, tag) : { body: JSON.stringify({ sequence }), headers: { 'content-type': 'application/json' } };
    sentAt.set(sequence, performance.now());
    inFlight.push(
      fetch(target.postUrl, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(10_000) })
        .then((response) => {
          if (response.status !== 202) failed++;
          return response.arrayBuffer();
        })
        .then(() => undefined, () => void failed++),
    );
  }
  await Promise.all(inFlight);
  const drainDeadline = performance.now() + 30_000;
  while (latencies.length < total - failed && performance.now() < drainDeadline) await new Promise((resolve) => setTimeout(resolve, 50));
  socket.close();
  latencies.sort((a, b) => a - b);
  return { sent: total, failed, delivered: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN };
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

async function coldStartOnly(runs: number, compareRef: string | undefined): Promise<void> {
  // Other processes on the machine slow every sample alike (they are interleaved), but they inflate the absolute ms.
  const loadBefore = loadavg()[0]!;
  const rows = await coldStart({ runs, compareRef, log: (line) => console.error(line) });
  console.log(
    `\ncold import, median of ${runs} fresh processes each, ${new Date().toISOString()}, Node ${process.version}, ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${fmt(loadBefore, 2)} before, ${fmt(loadavg()[0]!, 2)} after\n`,
  );
  console.log(coldStartTable(rows));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, runs: { type: 'string' }, compare: { type: 'string' } } });
  const runs = values.runs === undefined ? COLD_START_RUNS : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (values.only !== undefined && values.only !== 'cold-start') throw new Error('--only takes cold-start (the other sections run together)');
  if (values.only === 'cold-start') return coldStartOnly(runs, values.compare);
  if (values.compare !== undefined) throw new Error('--compare goes with --only cold-start');
  const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-bench-'));
  const started = new Date();
  const baseline = await startProcess(['bench/baseline-server.ts'], 'baseline-ready');
  const hookhub = await startProcess(['bin/local.ts'], 'hookhub-ready', {
    HOOKHUB_DATA_DIR: dataDir,
    HOOKHUB_ADMIN_KEY: ADMIN_KEY,
    HOOKHUB_DEMO_SECRET: SECRET,
    HOOKHUB_LOG_LEVEL: 'ERROR',
  });
  try {
    console.log('ingest throughput: baseline…');
    const baselineThroughput = await throughput(baseline.httpUrl, '/hooks/demo');
    console.log('ingest throughput: hookhub…');
    const throughputStart = performance.now();
    const hookhubThroughput = await throughput(hookhub.httpUrl, '/hooks/demo');
    // The worker keeps going after the load stops: time until everything accepted is processed.
    const drained = await waitForDrain(hookhub.httpUrl);
    const endToEndPerSecond = hookhubThroughput.accepted / ((drained - throughputStart) / 1000);
    const latency: Array<{ rate: number; base: Awaited<ReturnType<typeof pushLatency>>; hub: Awaited<ReturnType<typeof pushLatency>> }> = [];
    for (const rate of LATENCY_RATES) {
      console.log(`push latency at ${rate}/s…`);
      const base = await pushLatency({ postUrl: `${baseline.httpUrl}/relay`, wsUrl: baseline.wsUrl, signed: false }, rate);
      const hub = await pushLatency(
        { postUrl: `${hookhub.httpUrl}/hooks/demo`, wsUrl: `${hookhub.wsUrl}/?token=${ADMIN_KEY}&channels=demo`, signed: true },
        rate,
      );
      latency.push({ rate, base, hub });
      await waitForDrain(hookhub.httpUrl);
    }
    console.log('bundles and cold imports…');
    const bundleRows = await coldStart({ runs: COLD_START_RUNS });
    console.log('AWS cost per event…');
    const cost = await meterCost();

    const report = `# Benchmarks

Produced by \`npm run bench\` (bench/run.ts) on ${started.toISOString().slice(0, 10)}; every figure below comes from
that one run. Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB,
Node ${process.version}. Loader (autocannon, fetch, ws) and servers share the machine, so absolute numbers are
lower than on AWS; the ratios against the same-run baselines are the comparable part. On this shared 2-core
machine repeated runs differ by tens of percent, and the 500/s latency row depends on how far the backlog grows.

## Ingest throughput

${CONNECTIONS} connections for ${THROUGHPUT_SECONDS} s of signed Standard Webhooks requests (each its own event: a fresh id and signature per request) to
\`POST /hooks/demo\`. hookhub verifies each signature, writes to the durable local queue and answers 202, while its
worker consumes the queue in the same process. Baseline: a bare Node \`http\` server that reads the body and answers 202.

| | requests/s | p50 ms | p99 ms | non-2xx | errors |
| --- | ---: | ---: | ---: | ---: | ---: |
| baseline (bare 202) | ${fmt(baselineThroughput.requestsPerSecond, 0)} | ${baselineThroughput.p50} | ${baselineThroughput.p99} | ${baselineThroughput.non2xx} | ${baselineThroughput.errors} |
| hookhub local runtime | ${fmt(hookhubThroughput.requestsPerSecond, 0)} | ${hookhubThroughput.p50} | ${hookhubThroughput.p99} | ${hookhubThroughput.non2xx} | ${hookhubThroughput.errors} |
| **ratio hookhub / baseline** | **${fmt(hookhubThroughput.requestsPerSecond / baselineThroughput.requestsPerSecond, 3)}** | | | | |

End to end, the ${hookhubThroughput.accepted} accepted events were all stored and pushed ${fmt(endToEndPerSecond, 0)} events/s on average
(from the start of the load until the queue was empty). That is the local runtime's sustained capacity: one Node
process runs every handler, and each event costs about four AWS SDK calls (send, insert, status update, push;
receive, delete and subscriber lookups are per batch of 10). On AWS each function scales out instead.

## POST → WebSocket latency

Events sent at a fixed rate for ${LATENCY_SECONDS} s; latency from the start of the POST to the event's arrival on a
subscribed WebSocket. hookhub's path: verify → queue → worker (store once, look up subscribers) → @connections → socket.
Baseline: a bare server that relays the POST body to its WebSocket clients. The queue is drained before each rate.
A rate above the sustained capacity above shows as a growing backlog: latency then measures queueing, and
"delivered" counts what arrived within 30 s after the last POST (the rest is still queued, not lost).

| rate | | delivered / sent | p50 ms | p99 ms | max ms | p50 ratio |
| ---: | --- | ---: | ---: | ---: | ---: | ---: |
${latency
  .map(
    ({ rate, base, hub }) =>
      `| ${rate}/s | baseline relay | ${base.delivered} / ${base.sent} | ${fmt(base.p50)} | ${fmt(base.p99)} | ${fmt(base.max)} | 1 |\n` +
      `| ${rate}/s | hookhub | ${hub.delivered} / ${hub.sent} | ${fmt(hub.p50)} | ${fmt(hub.p99)} | ${fmt(hub.max)} | ${fmt(hub.p50 / base.p50)} |`,
  )
  .join('\n')}

## Lambda bundles and cold import

Each handler bundled with the stack's esbuild settings (lib/bundling.ts), then \`require\`d in a fresh Node process
(median of ${COLD_START_RUNS}, sampled round-robin over the bundles) whose environment is the one the stack gives that
function (its variables with placeholder values, \`NODE_OPTIONS\` as set) plus the Lambda runtime's own: module load
plus module-scope setup (config parse, SDK clients), which is what a Lambda init phase pays before the first event.
Baseline: an empty handler bundle in the same run. \`npm run bench -- --only cold-start\` runs this section alone
(\`--compare <git ref>\` adds another commit's bundles to the same run).

${coldStartTable(bundleRows)}

What remains is mostly the AWS SDK: V8 compiling the bundle (it pre-parses all of it, so size counts), the Node
modules the SDK loads at import (https, tls, crypto, zlib, streams) and its module-scope setup; Powertools, middy and
zod add a few milliseconds each. The source map is in each asset but Node does not read it unless the stack is
deployed with \`-c hookhub:sourceMaps=true\` (docs/decisions.md).

${cost}`;
    writeFileSync(join(PROJECT_ROOT, 'BENCHMARKS.md'), report);
    console.log(report);
  } finally {
    baseline.child.kill('SIGTERM');
    hookhub.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The cost section (bench/aws-cost/report.ts), with the old path metered in the same run when a ref is given. */
async function meterCost(): Promise<string> {
  const events = 200;
  const beforeRef = process.env.HOOKHUB_BENCH_COST_BEFORE;
  const before = beforeRef ? checkoutOf(beforeRef) : undefined;
  try {
    const beforeReports = before ? await runMeter(before.root, `before ${before.commit}`, events) : undefined;
    const current = await runMeter(PROJECT_ROOT, 'now', events);
    return costSection({ current, before: before && beforeReports ? { commit: before.commit, reports: beforeReports } : undefined });
  } finally {
    before?.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
