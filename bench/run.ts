/**
 * `npm run bench`: measures hookhub against baselines taken in the same run and writes BENCHMARKS.md.
 *  1. ingest throughput: signed requests through the local runtime vs a bare Node server answering 202;
 *  2. POST → WebSocket latency at fixed rates vs a bare HTTP→WebSocket relay;
 *  3. each Lambda bundle's size, cold import time and memory vs an empty bundle (what a cold start pays);
 *  4. AWS requests and units per inbound event and dollars per million at list prices (bench/aws-cost/); set
 *     HOOKHUB_BENCH_COST_BEFORE=<git ref> to meter that commit's handlers beside this checkout's in the same run;
 *  5. outbound deliveries/s and publish→receipt latency to a verifying loopback receiver (bench/outbound.ts);
 *  6. Ably: a 1,000-message signed batch's ingest time, and stored messages/s from webhooks and the history sync
 *     (bench/ably.ts).
 * All traffic stays on loopback; every loop is bounded in count and time.
 *
 * `npm run bench` runs every section and writes BENCHMARKS.md. `npm run bench -- --only ingest,latency` runs the
 * named sections (a comma-separated list of ingest, latency, cold-start, cost, outbound, ably) and prints their tables without writing
 * BENCHMARKS.md. `--compare <git ref>` measures that commit beside the working tree in the same run: its local
 * runtime (extracted under bench/.out) for ingest and latency, its bundles for cold-start (bench/cold-start.ts).
 * `--runs N` sets the cold import samples per bundle.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { PROJECT_ROOT } from '../lib/bundling';
import { coldStart, coldStartTable } from './cold-start';
import { signStandardWebhook } from '../lambdas/core/verification/standard-webhooks';
import { meteredCostSection } from './aws-cost/report';
import { outboundBenchmark, outboundReport } from './outbound';
import { ablyBenchmark, ablyReport } from './ably';

const SECRET = 'whsec_aG9va2h1Yi1sb2NhbC1kZXZlbG9wbWVudC1vbmx5';
const ADMIN_KEY = 'bench-admin-key-0123456789';
const THROUGHPUT_SECONDS = 10;
const CONNECTIONS = 20;
const LATENCY_RATES = [100, 200, 400, 500];
const LATENCY_SECONDS = 10;
const COLD_START_RUNS = 9;
const OUT = join(PROJECT_ROOT, 'bench', '.out');

interface Server {
  child: ChildProcess;
  httpUrl: string;
  wsUrl: string;
}

const SECTIONS = ['ingest', 'latency', 'cold-start', 'cost', 'outbound', 'ably'] as const;
type Section = (typeof SECTIONS)[number];

interface BenchOptions {
  sections: ReadonlySet<Section>;
  /** Only some sections were asked for: print them, leave BENCHMARKS.md as it is. */
  partial: boolean;
  compareRef?: string;
  /** Cold import samples per bundle. */
  runs: number;
}

export function parseBenchOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({ args, options: { only: { type: 'string' }, compare: { type: 'string' }, runs: { type: 'string' } } });
  const only = values.only?.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  const unknown = (only ?? []).filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0 || (only !== undefined && only.length === 0)) {
    throw new Error(`--only takes a comma-separated list of ${SECTIONS.join(', ')}${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}`);
  }
  const sections = new Set((only ?? SECTIONS) as Section[]);
  if (values.compare !== undefined && !['ingest', 'latency', 'cold-start'].some((section) => sections.has(section as Section))) {
    throw new Error('--compare measures the ingest, latency and cold-start sections; name one of them in --only (cost: HOOKHUB_BENCH_COST_BEFORE)');
  }
  const runs = values.runs === undefined ? COLD_START_RUNS : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  return { sections, partial: only !== undefined, compareRef: values.compare, runs };
}

/** Extracts a commit's runtime sources under bench/.out, so that its imports resolve to this checkout's node_modules. */
function extractCommit(ref: string): { root: string; sha: string } {
  const resolved = spawnSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' });
  if (resolved.status !== 0) throw new Error(`--compare: ${ref} is not a commit: ${resolved.stderr}`);
  const sha = resolved.stdout.trim();
  const root = join(OUT, `runtime-${sha.slice(0, 12)}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const archive = spawnSync('git', ['-C', PROJECT_ROOT, 'archive', sha, 'bin', 'lambdas', 'lib', 'hookhub.config.json', 'package.json', 'tsconfig.json'], {
    maxBuffer: 256 * 2 ** 20,
  });
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr.toString()}`);
  const untar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr.toString()}`);
  return { root, sha };
}

function startProcess(args: string[], readyPrefix: string, environment: Record<string, string> = {}, cwd = PROJECT_ROOT): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd,
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

/** SIGTERM, and wait for the process to end (the runtime stops cleanly on it). */
function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
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

/** Messages in the inbound queue not yet processed (visible + in flight), as /health reports them. */
async function backlog(httpUrl: string): Promise<number> {
  const response = await fetch(`${httpUrl}/health`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: AbortSignal.timeout(5_000) });
  const health = (await response.json()) as { checks: { inboundQueue: { visible: number; inFlight: number } } };
  return health.checks.inboundQueue.visible + health.checks.inboundQueue.inFlight;
}

/** Waits until the inbound queue is empty (bounded); returns when that happened. */
async function waitForDrain(httpUrl: string, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await backlog(httpUrl)) === 0) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the inbound queue did not drain in time');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Sends `rate` events/s for LATENCY_SECONDS and measures POST-start → WebSocket-arrival per event. For hookhub
 * (`healthUrl`), the backlog (messages queued, not yet processed) is sampled at the middle and at the end of the
 * sending: a rate the runtime sustains ends with a backlog of about one second's batches, one it does not ends
 * with a backlog that grew between the two samples.
 */
async function pushLatency(target: { postUrl: string; wsUrl: string; signed: boolean; healthUrl?: string }, rate: number) {
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
  const backlogs: Promise<number>[] = [];
  const sampleBacklog = () => target.healthUrl && backlogs.push(backlog(target.healthUrl).catch(() => NaN));
  const begin = performance.now();
  for (let sequence = 0; sequence < total; sequence++) {
    if (sequence === total / 2) sampleBacklog();
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
  sampleBacklog();
  const [backlogMiddle = NaN, backlogEnd = NaN] = await Promise.all(backlogs);
  const drainDeadline = performance.now() + 30_000;
  while (latencies.length < total - failed && performance.now() < drainDeadline) await new Promise((resolve) => setTimeout(resolve, 50));
  socket.close();
  latencies.sort((a, b) => a - b);
  return {
    sent: total,
    failed,
    delivered: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    backlogMiddle,
    backlogEnd,
  };
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');


type Throughput = Awaited<ReturnType<typeof throughput>>;
type Latency = Awaited<ReturnType<typeof pushLatency>>;

/** A hookhub local runtime under test: the working tree's, or a compared commit's. */
interface Runtime {
  label: string;
  server: Server;
  dataDir: string;
}

async function startRuntime(label: string, root: string, extraEnvironment: Record<string, string> = {}): Promise<Runtime> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-bench-'));
  const environment = { HOOKHUB_DATA_DIR: dataDir, HOOKHUB_ADMIN_KEY: ADMIN_KEY, HOOKHUB_DEMO_SECRET: SECRET, HOOKHUB_LOG_LEVEL: 'ERROR', ...extraEnvironment };
  return { label, dataDir, server: await startProcess([join(root, 'bin', 'local.ts')], 'hookhub-ready', environment, root) };
}

interface IngestResult {
  baseline: Throughput;
  rows: Array<{ label: string; hub: Throughput; endToEndPerSecond: number }>;
}

async function ingestSection(baseline: Server, runtimes: readonly Runtime[]): Promise<IngestResult> {
  console.error('ingest throughput: baseline…');
  const baselineThroughput = await throughput(baseline.httpUrl, '/hooks/demo');
  const rows: IngestResult['rows'] = [];
  for (const runtime of runtimes) {
    console.error(`ingest throughput: ${runtime.label}…`);
    const start = performance.now();
    const hub = await throughput(runtime.server.httpUrl, '/hooks/demo');
    // The worker drains while the load runs and keeps going after it stops: time until everything accepted is processed.
    const drained = await waitForDrain(runtime.server.httpUrl);
    rows.push({ label: runtime.label, hub, endToEndPerSecond: hub.accepted / ((drained - start) / 1000) });
  }
  return { baseline: baselineThroughput, rows };
}

type LatencyResult = Array<{ rate: number; base: Latency; hubs: Array<{ label: string; hub: Latency }> }>;

async function latencySection(baseline: Server, runtimes: readonly Runtime[]): Promise<LatencyResult> {
  const result: LatencyResult = [];
  for (const rate of LATENCY_RATES) {
    console.error(`push latency at ${rate}/s: baseline…`);
    const base = await pushLatency({ postUrl: `${baseline.httpUrl}/relay`, wsUrl: baseline.wsUrl, signed: false }, rate);
    const hubs: LatencyResult[number]['hubs'] = [];
    for (const runtime of runtimes) {
      console.error(`push latency at ${rate}/s: ${runtime.label}…`);
      const { httpUrl, wsUrl } = runtime.server;
      const hub = await pushLatency({ postUrl: `${httpUrl}/hooks/demo`, wsUrl: `${wsUrl}/?token=${ADMIN_KEY}&channels=demo`, signed: true, healthUrl: httpUrl }, rate);
      hubs.push({ label: runtime.label, hub });
      await waitForDrain(httpUrl);
    }
    result.push({ rate, base, hubs });
  }
  return result;
}

function ingestReport({ baseline, rows }: IngestResult): string {
  return `## Ingest throughput

${CONNECTIONS} connections for ${THROUGHPUT_SECONDS} s of signed Standard Webhooks requests (each its own event: a fresh id and signature per request) to
\`POST /hooks/demo\`. hookhub verifies each signature, appends the event to the durable local queue's journal and
answers 202, while its worker drains the queue at the same time. Baseline: a bare Node \`http\` server that reads the
body and answers 202. "End to end" is accepted events ÷ the time from the start of the load until the queue was
empty: every accepted event stored and pushed.

| | requests/s | ratio to baseline | p50 ms | p99 ms | non-2xx | errors | end to end events/s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| baseline (bare 202) | ${fmt(baseline.requestsPerSecond, 0)} | 1 | ${baseline.p50} | ${baseline.p99} | ${baseline.non2xx} | ${baseline.errors} | |
${rows
  .map(
    ({ label, hub, endToEndPerSecond }) =>
      `| ${label} | ${fmt(hub.requestsPerSecond, 0)} | **${fmt(hub.requestsPerSecond / baseline.requestsPerSecond, 3)}** | ${hub.p50} | ${hub.p99} | ${hub.non2xx} | ${hub.errors} | ${fmt(endToEndPerSecond, 0)} (${hub.accepted} events) |`,
  )
  .join('\n')}
`;
}

function latencyReport(result: LatencyResult): string {
  return `## POST → WebSocket latency

Events sent at a fixed rate for ${LATENCY_SECONDS} s; latency from the start of the POST to the event's arrival on a
subscribed WebSocket. hookhub's path: verify → queue → worker (store once, look up subscribers) → @connections → socket.
Baseline: a bare server that relays the POST body to its WebSocket clients. The queue is drained before each rate.
Backlog is the messages queued and not yet processed, halfway through the sending and when the last POST was
answered: a rate the runtime sustains keeps it at a few batches, a rate above its capacity grows it, and latency then
measures queueing. "Delivered" counts what arrived within 30 s after the last POST (the rest is still queued, not lost).

| rate | | delivered / sent | p50 ms | p99 ms | max ms | p50 ratio | backlog halfway → end |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${result
  .map(({ rate, base, hubs }) =>
    [
      `| ${rate}/s | baseline relay | ${base.delivered} / ${base.sent} | ${fmt(base.p50)} | ${fmt(base.p99)} | ${fmt(base.max)} | 1 | |`,
      ...hubs.map(
        ({ label, hub }) =>
          `| ${rate}/s | ${label} | ${hub.delivered} / ${hub.sent} | ${fmt(hub.p50)} | ${fmt(hub.p99)} | ${fmt(hub.max)} | ${fmt(hub.p50 / base.p50)} | ${fmt(hub.backlogMiddle, 0)} → ${fmt(hub.backlogEnd, 0)} |`,
      ),
    ].join('\n'),
  )
  .join('\n')}
`;
}

function coldStartReport(rows: Awaited<ReturnType<typeof coldStart>>, runs: number): string {
  return `## Lambda bundles and cold import

Each handler bundled with the stack's esbuild settings (lib/bundling.ts), then \`require\`d in a fresh Node process
(median of ${runs}, sampled round-robin over the bundles) whose environment is the one the stack gives that
function (its variables with placeholder values, \`NODE_OPTIONS\` as set) plus the Lambda runtime's own: module load
plus module-scope setup (config parse, SDK clients), which is what a Lambda init phase pays before the first event.
Baseline: an empty handler bundle in the same run. \`npm run bench -- --only cold-start\` runs this section alone
(\`--compare <git ref>\` adds another commit's bundles to the same run).

${coldStartTable(rows)}

What remains is mostly the AWS SDK: V8 compiling the bundle (it pre-parses all of it, so size counts), the Node
modules the SDK loads at import (https, tls, crypto, zlib, streams) and its module-scope setup; Powertools, middy and
zod add a few milliseconds each. The source map is in each asset but Node does not read it unless the stack is
deployed with \`-c hookhub:sourceMaps=true\` (docs/decisions.md).
`;
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  const started = new Date();
  const loadBefore = loadavg()[0]!;
  const sections: string[] = [];
  const servers: Server[] = [];
  const runtimes: Runtime[] = [];
  try {
    if (options.sections.has('ingest') || options.sections.has('latency')) {
      const baseline = await startProcess(['bench/baseline-server.ts'], 'baseline-ready');
      servers.push(baseline);
      if (options.compareRef) {
        const { root, sha } = extractCommit(options.compareRef);
        runtimes.push(await startRuntime(`before (${options.compareRef} ${sha.slice(0, 7)})`, root));
      }
      runtimes.push(await startRuntime(options.compareRef ? 'hookhub (this tree)' : 'hookhub local runtime', PROJECT_ROOT));
      if (options.sections.has('ingest')) sections.push(ingestReport(await ingestSection(baseline, runtimes)));
      if (options.sections.has('latency')) sections.push(latencyReport(await latencySection(baseline, runtimes)));
    }
    if (options.sections.has('cold-start')) {
      console.error('bundles and cold imports…');
      const rows = await coldStart({ runs: options.runs, compareRef: options.compareRef, log: (line) => console.error(line) });
      sections.push(coldStartReport(rows, options.runs));
    }
    if (options.sections.has('cost')) {
      console.error('AWS cost per event…');
      sections.push(await meterCost());
    }
    if (options.sections.has('outbound')) {
      // Runtimes of its own, a fresh one per run (bench/outbound.ts): the inbound sections' load must not share their
      // queues and tables, and one run's data must not slow the next.
      const startHub = async () => {
        const runtime = await startRuntime('hookhub local runtime (outbound)', PROJECT_ROOT);
        return {
          httpUrl: runtime.server.httpUrl,
          adminKey: ADMIN_KEY,
          stop: async () => {
            await stopProcess(runtime.server.child);
            rmSync(runtime.dataDir, { recursive: true, force: true });
          },
        };
      };
      sections.push(outboundReport(await outboundBenchmark(startHub)));
    }
    if (options.sections.has('ably')) {
      // A runtime of its own (config with an Ably source, its REST URL on a loopback fake) and a bare 202 server.
      const startHub = async (environment: Record<string, string>) => {
        const runtime = await startRuntime('hookhub local runtime (ably)', PROJECT_ROOT, environment);
        return {
          httpUrl: runtime.server.httpUrl,
          adminKey: ADMIN_KEY,
          stop: async () => {
            await stopProcess(runtime.server.child);
            rmSync(runtime.dataDir, { recursive: true, force: true });
          },
        };
      };
      const startBaseline = async () => {
        const baseline = await startProcess(['bench/baseline-server.ts'], 'baseline-ready');
        return { httpUrl: baseline.httpUrl, stop: () => stopProcess(baseline.child) };
      };
      sections.push(ablyReport(await ablyBenchmark({ startHub, startBaseline, demoSecret: SECRET })));
    }
  } finally {
    for (const server of [...servers, ...runtimes.map((runtime) => runtime.server)]) server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const runtime of runtimes) rmSync(runtime.dataDir, { recursive: true, force: true });
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  if (options.partial) {
    const load = `load average ${fmt(loadBefore, 2)} before, ${fmt(loadavg()[0]!, 2)} after`;
    const text = `${started.toISOString()} · ${machine} · ${load} · npm run bench -- ${process.argv.slice(2).join(' ')}\n\n${sections.join('\n')}`;
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'last-run.md'), text);
    console.log(text);
    return;
  }
  const report = `# Benchmarks

Produced by \`npm run bench\` (bench/run.ts) on ${started.toISOString().slice(0, 10)}; every figure below comes from
that one run. Machine: ${machine}. Loader (autocannon, fetch, ws) and servers share the machine, so absolute numbers
are lower than on AWS; the ratios against the same-run baselines are the comparable part. On this shared 2-core
machine repeated runs differ by tens of percent, and the rows above the sustained rate depend on how far the backlog grows.

${sections.join('\n')}`;
  writeFileSync(join(PROJECT_ROOT, 'BENCHMARKS.md'), report);
  console.log(report);
}

/** The cost section (bench/aws-cost/report.ts), with the old path metered in the same run when a ref is given. */
async function meterCost(): Promise<string> {
  return (await meteredCostSection(200, process.env.HOOKHUB_BENCH_COST_BEFORE)).section;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
