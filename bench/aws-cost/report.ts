/**
 * The cost section of BENCHMARKS.md: runs meter.ts on this checkout (and, when asked, on an earlier commit for a
 * before column in the same run) and renders requests and units per event and dollars per million 1 KiB events.
 * `npx tsx bench/aws-cost/report.ts [--before <git ref>] [--events 200]` prints the section; bench/run.ts embeds it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byService, costRows, idleCostPerMonth, totalPerMillion, type CostRow, type IngestFront, type MeterReport } from './cost-table';
import { PRICES, PRICES_CHECKED, PRICE_REGION } from './prices';

const PROJECT_ROOT = join(__dirname, '..', '..');

export function runMeter(root: string, label: string, events: number): Promise<MeterReport[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'meter.ts'), '--root', root, '--events', String(events), '--label', label], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`meter for ${label} exited with ${code}`));
      resolve(JSON.parse(output.trim().split('\n').pop()!) as MeterReport[]);
    });
  });
}

/** The source tree of an earlier commit, to meter the old path side by side (node_modules shared by a symlink). */
export function checkoutOf(ref: string): { root: string; commit: string; remove: () => void } {
  const commit = execFileSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--short', ref], { encoding: 'utf8' }).trim();
  const root = mkdtempSync(join(tmpdir(), 'hookhub-before-'));
  execFileSync('sh', ['-c', `git -C "${PROJECT_ROOT}" archive ${commit} lambdas lib tsconfig.json package.json package-lock.json | tar -x -C "${root}"`]);
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'));
  return { root, commit, remove: () => rmSync(root, { recursive: true, force: true }) };
}

const money = (value: number) => `$${value.toFixed(3)}`;
const quantity = (value: number) => (value === 0 ? '0' : value >= 0.1 ? value.toFixed(2) : value.toPrecision(2));

export function costTable(columns: Array<{ title: string; report: MeterReport; front?: IngestFront }>): string {
  const rowSets = columns.map((column) => costRows(column.report, { ingestFront: column.front }));
  const keys: Array<{ service: string; operation: string; unit: string }> = [];
  for (const rows of rowSets) for (const row of rows) if (!keys.some((key) => key.service === row.service && key.operation === row.operation)) keys.push(row);
  const order = ['API Gateway', 'Lambda', 'SQS', 'DynamoDB'];
  keys.sort((a, b) => order.indexOf(a.service) - order.indexOf(b.service));
  const cell = (rows: CostRow[], key: { service: string; operation: string }) => {
    const row = rows.find((candidate) => candidate.service === key.service && candidate.operation === key.operation);
    return row ? `${quantity(row.perEvent)} ${row.unit} | ${money(row.dollarsPerMillion)}` : '– | –';
  };
  const header = `| service | operation | ${columns.map((column) => `${column.title}: per event | $/M`).join(' | ')} |`;
  const rule = `| --- | --- | ${columns.map(() => '---: | ---:').join(' | ')} |`;
  const lines = keys.map((key) => `| ${key.service} | ${key.operation} | ${rowSets.map((rows) => cell(rows, key)).join(' | ')} |`);
  const services = order.map((service) => `| **${service}** | | ${rowSets.map((rows) => `| **${money(byService(rows)[service] ?? 0)}**`).join(' | ')} |`);
  const total = `| **total** | | ${rowSets.map((rows) => `| **${money(totalPerMillion(rows))}**`).join(' | ')} |`;
  return [header, rule, ...lines, ...services, total].join('\n');
}

export function costSection(input: { current: MeterReport[]; before?: { commit: string; reports: MeterReport[] } }): string {
  const pick = (reports: MeterReport[], scenario: string) => reports.find((report) => report.scenario === scenario)!;
  const now = pick(input.current, 'batched');
  const columns: Array<{ title: string; report: MeterReport; front?: IngestFront }> = [];
  if (input.before) columns.push({ title: `before (${input.before.commit})`, report: pick(input.before.reports, 'batched') });
  columns.push({ title: 'now, HTTP API', report: now }, { title: 'now, function URL', report: now, front: 'function-url' });
  const totals = (reports: MeterReport[], scenario: string, front?: IngestFront) => money(totalPerMillion(costRows(pick(reports, scenario), { ingestFront: front })));
  const summary = [
    '| run | front door | batches of 10 | batches of 1 |',
    '| --- | --- | ---: | ---: |',
    ...(input.before ? [`| before (${input.before.commit}) | HTTP API | ${totals(input.before.reports, 'batched')} | ${totals(input.before.reports, 'single')} |`] : []),
    `| now | HTTP API | ${totals(input.current, 'batched')} | ${totals(input.current, 'single')} |`,
    `| now | Lambda function URL | ${totals(input.current, 'batched', 'function-url')} | ${totals(input.current, 'single', 'function-url')} |`,
  ].join('\n');
  const idle = idleCostPerMonth({ idleReceivesPerMinute: 15, subscribers: 1 });
  const items = [input.before ? `before ${input.before.reports[0]!.eventItemBytes.mean} bytes (max ${input.before.reports[0]!.eventItemBytes.max})` : undefined, `now ${now.eventItemBytes.mean} bytes (max ${now.eventItemBytes.max})`].filter(Boolean).join(', ');
  return `## Cost per million inbound events on AWS

${now.events} distinct 1 KiB signed events (a payment-provider-shaped JSON body with the headers API Gateway passes)
through the real ingest and worker handlers with real SDK clients against dynalite and the local SQS endpoint, with
one WebSocket subscriber on the event's channel (bench/aws-cost/meter.ts). Every SDK command is recorded; DynamoDB
write units are computed from the old and new item around each write and the index definitions in
table-definitions.ts (dynalite counts no index writes), by DynamoDB's documented rules (bench/aws-cost/dynamodb-units.ts).
Lambda GB-seconds are the handlers' measured warm durations here, rounded up per invocation to 1 ms, times each
function's memory in the synthesized stack; on AWS each SDK call also waits for the network (a few ms each), so real
durations are longer: every extra 10 ms per ingest invocation at 512 MB adds $${((10 / 1000) * 0.5 * PRICES.lambdaGbSecondArm * 1e6).toFixed(3)} per million.
Prices: ${PRICE_REGION} list prices, no free tier, checked ${PRICES_CHECKED} (bench/aws-cost/prices.ts): HTTP API $1.00/M requests,
WebSocket $1.00/M messages (32 KB each), SQS $0.40/M requests (64 KB each), DynamoDB on-demand $0.625/M write and
$0.125/M read request units, Lambda arm64 $0.20/M requests + $0.0000133334/GB-s.
Event item size as DynamoDB counts it: ${items}.

"Batches of 10" is a backlog or any rate at which the event source finds 10 messages per poll; "batches of 1" is a
trickle, where each event gets its own worker invocation, receive and delete.

${summary}

Per event and per million events, batches of 10:

${costTable(columns)}

Not per event (idle): the worker's SQS event source long-polls an empty queue, about 15 receives a minute
(${money(idle.sqs)} a month; the run counted ${now.emptyReceives} empty receives), one subscriber connected all month is
43,200 connection-minutes (${money(idle.webSocket)}), and it reconnects every 2 hours (API Gateway's limit), each time a
$connect invocation and two small writes. Secrets Manager ($0.40 per secret a month) and CloudWatch Logs are outside
this table.
`;
}

/** Meters `events` events through this checkout's handlers, and through `beforeRef`'s beside them when given. */
export async function meteredCostSection(events: number, beforeRef?: string): Promise<{ section: string; current: Awaited<ReturnType<typeof runMeter>>; before?: Awaited<ReturnType<typeof runMeter>> }> {
  const before = beforeRef ? checkoutOf(beforeRef) : undefined;
  try {
    const beforeReports = before ? await runMeter(before.root, `before ${before.commit}`, events) : undefined;
    const current = await runMeter(PROJECT_ROOT, 'now', events);
    const section = costSection({ current, before: before && beforeReports ? { commit: before.commit, reports: beforeReports } : undefined });
    return { section, current, before: beforeReports };
  } finally {
    before?.remove();
  }
}

async function main(): Promise<void> {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
  const { section, current, before } = await meteredCostSection(Number(args.get('events') ?? 200), args.get('before'));
  console.log(section);
  if (args.has('json')) console.log(JSON.stringify({ current, before }));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
