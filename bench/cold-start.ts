/**
 * Cold import of each Lambda bundle, as a Lambda init phase pays it: the bundle the stack deploys (lib/bundling.ts),
 * `require`d in a fresh Node process whose environment is the one the stack gives that function (its variables,
 * tokens replaced by placeholders, NODE_OPTIONS exactly as set) plus the variables the Lambda runtime adds. An empty
 * handler bundle, in the same environment minus the function's own variables, is the baseline of the same run.
 *
 * With a git ref (`--compare <ref>`), that commit's lambdas/ and lib/ are extracted under bench/.out and measured in
 * the same run, interleaved sample by sample with the working tree's, in the environment that commit's stack gives.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { build } from 'esbuild';
import type * as Bundling from '../lib/bundling';
import type * as HookhubFunctionModule from '../lib/constructs/hookhub-function';
import type * as HookhubStackModule from '../lib/hookhub-stack';
import type * as ConfigFileModule from '../lib/config-file';
import { PROJECT_ROOT } from '../lib/bundling';

const OUT = join(PROJECT_ROOT, 'bench', '.out', 'cold-start');
const REGION = 'us-east-1';

/** What the Lambda runtime itself puts in every function's environment (placeholder values where secret). */
function lambdaRuntimeEnvironment(functionName: string, memorySize: number, taskRoot: string): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'ASIAPLACEHOLDER',
    AWS_SECRET_ACCESS_KEY: 'placeholder',
    AWS_SESSION_TOKEN: 'placeholder',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: 'index.handler',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    // This machine runs Node 20; Lambda runs 22, where the SDK has no version notice to print.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** A stand-in for a value CloudFormation fills in at deploy time (a table name, a queue URL, a secret ARN). */
function placeholder(name: string): string {
  return name.endsWith('_URL') ? `https://placeholder.invalid/${name.toLowerCase()}` : `placeholder-${name.toLowerCase()}`;
}

interface FunctionUnderTest {
  handler: Bundling.HandlerName;
  entry: string;
  /** The stack's variables for this function (tokens replaced by placeholders). */
  variables: Record<string, string>;
  memorySize: number;
}

/** Everything a tree (the working tree or an extracted commit) says about its functions. */
interface Tree {
  label: string;
  root: string;
  bundling: typeof Bundling;
  functions: FunctionUnderTest[];
}

async function loadTree(label: string, root: string): Promise<Tree> {
  const bundling = (await import(join(root, 'lib/bundling.ts'))) as typeof Bundling;
  const { HookhubStack } = (await import(join(root, 'lib/hookhub-stack.ts'))) as typeof HookhubStackModule;
  const { HookhubFunction } = (await import(join(root, 'lib/constructs/hookhub-function.ts'))) as typeof HookhubFunctionModule;
  const { loadConfigFile } = (await import(join(root, 'lib/config-file.ts'))) as typeof ConfigFileModule;
  // Templates only: the bench bundles the entries itself, with the same settings (see esbuildOptions).
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HookhubStack(app, 'Hookhub', {
    config: loadConfigFile(join(root, 'hookhub.config.json')),
    env: { account: '123456789012', region: REGION },
  });
  const functions = stack.node
    .findAll()
    .filter((construct): construct is InstanceType<typeof HookhubFunction> => construct instanceof HookhubFunction)
    .map((hookhubFunction) => {
      const cfn = hookhubFunction.function.node.defaultChild as CfnFunction;
      const resolved = Stack.of(hookhubFunction).resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
      const variables = Object.fromEntries(
        Object.entries(resolved?.variables ?? {}).map(([name, value]) => [name, typeof value === 'string' ? value : placeholder(name)]),
      );
      return {
        handler: hookhubFunction.handlerName,
        entry: join(root, bundling.HANDLER_ENTRIES[hookhubFunction.handlerName]),
        variables,
        memorySize: (Stack.of(hookhubFunction).resolve(cfn.memorySize) as number | undefined) ?? 128,
      };
    });
  return { label, root, bundling, functions };
}

/** Extracts a commit's sources under bench/.out so that its imports resolve to this checkout's node_modules. */
function extractCommit(ref: string): string {
  const sha = spawnSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' });
  if (sha.status !== 0) throw new Error(`--compare: ${ref} is not a commit: ${sha.stderr}`);
  const root = join(OUT, `tree-${sha.stdout.trim().slice(0, 12)}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const archive = spawnSync('git', ['-C', PROJECT_ROOT, 'archive', sha.stdout.trim(), 'lambdas', 'lib', 'hookhub.config.json', 'package.json', 'package-lock.json', 'tsconfig.json'], {
    maxBuffer: 256 * 2 ** 20,
  });
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr.toString()}`);
  const untar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr.toString()}`);
  return root;
}

interface Measured {
  variant: string;
  name: string;
  file: string;
  environment: Record<string, string>;
  bytes: number;
  gzipBytes: number;
  samples: Array<{ ms: number; rss: number }>;
}

async function bundle(tree: Tree, name: string, entry: string): Promise<string> {
  // index.js in a directory of its own, like the asset NodejsFunction writes.
  const outfile = join(OUT, tree.label, name, 'index.js');
  await build(tree.bundling.esbuildOptions(entry, outfile));
  return outfile;
}

function sample(file: string, environment: Record<string, string>): { ms: number; rss: number } {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});const ms=Number(process.hrtime.bigint()-t)/1e6;console.log(JSON.stringify({ms,rss:process.memoryUsage().rss}))`;
  const result = spawnSync(process.execPath, ['-e', script], { env: environment, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`import of ${file} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as { ms: number; rss: number };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface ColdStartRow {
  variant: string;
  name: string;
  bytes: number;
  gzipBytes: number;
  ms: number;
  rssMiB: number;
  /** ms over the same variant's empty bundle. */
  ratio: number;
}

export const EMPTY_NAME = '(empty handler baseline)';

/**
 * Bundles and measures the working tree (variant `current`) and, when `compareRef` is given, that commit (variant
 * `before`). Samples go round-robin over every bundle so that load from other processes hits all of them alike.
 */
export async function coldStart(options: { runs: number; compareRef?: string; log?: (line: string) => void }): Promise<ColdStartRow[]> {
  const log = options.log ?? (() => undefined);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const emptyEntry = join(OUT, 'empty-handler.js');
  writeFileSync(emptyEntry, 'exports.handler = async () => ({ statusCode: 200 });\n');

  const trees: Tree[] = [];
  if (options.compareRef) trees.push(await loadTree('before', extractCommit(options.compareRef)));
  trees.push(await loadTree('current', PROJECT_ROOT));

  const targets: Measured[] = [];
  for (const tree of trees) {
    log(`bundling ${tree.label}…`);
    const nodeOptions = new Set(tree.functions.map((fn) => fn.variables.NODE_OPTIONS ?? ''));
    if (nodeOptions.size !== 1) throw new Error(`${tree.label}: functions differ in NODE_OPTIONS; the baseline needs one`);
    const [sharedNodeOptions] = [...nodeOptions];
    const emptyFile = await bundle(tree, 'empty', emptyEntry);
    const emptyEnvironment = { ...lambdaRuntimeEnvironment('empty', 512, join(OUT, tree.label, 'empty')), ...(sharedNodeOptions ? { NODE_OPTIONS: sharedNodeOptions } : {}) };
    const entries = [{ name: EMPTY_NAME, file: emptyFile, environment: emptyEnvironment }];
    for (const fn of tree.functions) {
      const file = await bundle(tree, fn.handler, fn.entry);
      entries.push({ name: fn.handler, file, environment: { ...lambdaRuntimeEnvironment(`hookhub-${fn.handler}`, fn.memorySize, join(OUT, tree.label, fn.handler)), ...fn.variables } });
    }
    for (const entry of entries) {
      const contents = readFileSync(entry.file);
      targets.push({ variant: tree.label, ...entry, bytes: statSync(entry.file).size, gzipBytes: gzipSync(contents).length, samples: [] });
    }
  }

  for (let run = 0; run < options.runs; run++) {
    log(`cold imports: round ${run + 1} of ${options.runs}`);
    for (const target of targets) target.samples.push(sample(target.file, target.environment));
  }

  const rows = targets.map((target) => ({
    variant: target.variant,
    name: target.name,
    bytes: target.bytes,
    gzipBytes: target.gzipBytes,
    ms: median(target.samples.map((s) => s.ms)),
    rssMiB: median(target.samples.map((s) => s.rss)) / 2 ** 20,
    ratio: NaN,
  }));
  for (const row of rows) row.ratio = row.ms / rows.find((other) => other.variant === row.variant && other.name === EMPTY_NAME)!.ms;
  return rows;
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** One row per bundle; with a comparison, the before and current figures side by side. */
export function coldStartTable(rows: ColdStartRow[]): string {
  const current = rows.filter((row) => row.variant === 'current');
  const before = new Map(rows.filter((row) => row.variant === 'before').map((row) => [row.name, row]));
  if (before.size === 0) {
    return [
      '| bundle | size KiB | gzip KiB | cold import ms | import ratio | RSS MiB |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...current.map((row) => `| ${row.name} | ${fmt(row.bytes / 1024, 0)} | ${fmt(row.gzipBytes / 1024, 0)} | ${fmt(row.ms)} | ${fmt(row.ratio)} | ${fmt(row.rssMiB)} |`),
    ].join('\n');
  }
  return [
    '| bundle | size KiB before → now | cold import ms before | cold import ms now | ratio before | ratio now | RSS MiB before → now |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...current.map((row) => {
      const old = before.get(row.name);
      return `| ${row.name} | ${old ? fmt(old.bytes / 1024, 0) : 'n/a'} → ${fmt(row.bytes / 1024, 0)} | ${old ? fmt(old.ms) : 'n/a'} | ${fmt(row.ms)} | ${old ? fmt(old.ratio) : 'n/a'} | ${fmt(row.ratio)} | ${old ? fmt(old.rssMiB) : 'n/a'} → ${fmt(row.rssMiB)} |`;
    }),
  ].join('\n');
}
