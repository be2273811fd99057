/**
 * The Lambda bundles as the stack builds them (lib/bundling.ts): ES module builds of the AWS SDK (tree-shaken), no
 * zod where no sources are parsed, and each bundle loads in a fresh Node process and answers an event that needs no
 * AWS call, the way a Lambda cold start would run it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions, HANDLER_ENTRIES, PROJECT_ROOT, type HandlerName } from '../../lib/bundling';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HookhubStack } from '../../lib/hookhub-stack';
import { HookhubFunction } from '../../lib/constructs/hookhub-function';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { context, httpEvent, sqsEvent } from '../fixtures/api-gateway-events';
import { OUTBOUND_TEST_ENVIRONMENT } from '../fixtures/outbound-environment';

const outDir = mkdtempSync(join(tmpdir(), 'hookhub-bundles-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const handlers = Object.keys(HANDLER_ENTRIES) as HandlerName[];
const metafiles = new Map<HandlerName, Metafile>();

beforeAll(async () => {
  for (const name of handlers) {
    const result = await build({ ...esbuildOptions(join(PROJECT_ROOT, HANDLER_ENTRIES[name]), join(outDir, name, 'index.js')), metafile: true });
    metafiles.set(name, result.metafile);
  }
}, 120_000);

/** Source files that put code into the bundle (the metafile's inputs also list what tree shaking dropped). */
function bundledFiles(name: HandlerName): string[] {
  const output = Object.values(metafiles.get(name)!.outputs).find((candidate) => candidate.entryPoint)!;
  return Object.entries(output.inputs).flatMap(([file, input]) => (input.bytesInOutput > 0 ? [file] : []));
}

it.each(handlers)('%s takes the AWS SDK from its ES module build', (name) => {
  expect(bundledFiles(name).filter((file) => /node_modules\/@(aws-sdk|smithy)\/[^/]+\/dist-cjs\//.test(file))).toEqual([]);
  expect(bundledFiles(name).filter((file) => /node_modules\/@aws-sdk\/[^/]+\/dist-es\//.test(file)).length).toBeGreaterThan(0);
});

it.each(['httpReadApi', 'wsConnect', 'wsDisconnect', 'wsDefault'] as const)('%s bundles no zod (it parses no sources)', (name) => {
  expect(bundledFiles(name).filter((file) => file.includes('node_modules/zod/'))).toEqual([]);
});

it('bundles one copy of zod where sources are parsed', () => {
  expect(bundledFiles('httpIngest').filter((file) => /node_modules\/zod\/.*\.cjs$/.test(file))).toEqual([]);
});

/** What the stack gives the functions, with placeholders, and the admin key as a value so that no AWS call is made. */
const environment = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'placeholder',
  AWS_SECRET_ACCESS_KEY: 'placeholder',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  HOOKHUB_SOURCES: JSON.stringify({ sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { secretName: 'hookhub/sources/demo' } }] }),
  HOOKHUB_SECRETS_BACKEND: 'secrets-manager',
  HOOKHUB_INBOUND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/inbound',
  HOOKHUB_DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
  HOOKHUB_EVENTS_TABLE: 'events',
  HOOKHUB_CONNECTIONS_TABLE: 'connections',
  HOOKHUB_WS_CALLBACK_URL: 'https://example.execute-api.us-east-1.amazonaws.com/live',
  HOOKHUB_ADMIN_KEY: 'bundle-test-admin-key-0123456789',
  HOOKHUB_ABLY_MESSAGES_TABLE: 'ably-messages',
  HOOKHUB_ABLY_STATE_TABLE: 'ably-state',
  ...OUTBOUND_TEST_ENVIRONMENT,
};

/** Loads a bundle in a new Node process and, given an event, invokes its handler once. */
function invokeFresh(name: HandlerName, event?: unknown, env: Record<string, string> = environment): { handlerType: string; result?: unknown } {
  const script = `
    const { handler } = require(${JSON.stringify(join(outDir, name, 'index.js'))});
    const event = ${JSON.stringify(event ?? null)};
    const context = { ...${JSON.stringify(context)}, getRemainingTimeInMillis: () => 10000 };
    Promise.resolve(event === null ? undefined : handler(event, context)).then((result) => {
      process.stdout.write(JSON.stringify({ handlerType: typeof handler, result }));
    });`;
  const child = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0) throw new Error(`${name} failed in a fresh process: ${child.stderr}`);
  return JSON.parse(child.stdout) as { handlerType: string; result?: unknown };
}

describe('in a fresh process', () => {
  it('ingest answers 404 for an unknown source', () => {
    const { result } = invokeFresh('httpIngest', httpEvent({ pathParameters: { source: 'nope' }, path: '/hooks/nope' }));
    expect(result).toMatchObject({ statusCode: 404, body: expect.stringContaining('unknown_source') });
  });

  it('the read API answers 401 without the admin key', () => {
    const { result } = invokeFresh('httpReadApi', httpEvent({ method: 'GET', routeKey: 'GET /api/events', path: '/api/events' }));
    expect(result).toMatchObject({ statusCode: 401 });
  });

  it('the worker reports a record that is not an event as failed', () => {
    const { result } = invokeFresh('sqsProcessInbound', sqsEvent([{ messageId: 'm-1', body: 'not json' }]));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });

  it('$connect refuses a wrong token', () => {
    const event = { requestContext: { connectionId: 'c-1', connectedAt: 0 }, queryStringParameters: { token: 'wrong' } };
    expect(invokeFresh('wsConnect', event).result).toMatchObject({ statusCode: 401 });
  });

  it.each(['wsDisconnect', 'wsDefault'] as const)('%s loads and exports its handler (every event it takes calls AWS)', (name) => {
    expect(invokeFresh(name).handlerType).toBe('function');
  });
});

/**
 * Each function with exactly the variables the stack gives it (CloudFormation references replaced by placeholders)
 * and the Lambda runtime's own: a handler that reads a variable its function does not get fails its cold start on
 * AWS, and the shared test environment above (which has every variable) would not show it.
 */
describe('with the environment its stack function gets', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // An Ably source, so that the stack also has the function its rule registration runs.
  const stack = new HookhubStack(app, 'EnvCheck', {
    config: parseHookhubConfig({
      sources: [
        { id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { secretName: 'hookhub/sources/demo' } },
        { id: 'ably', preset: 'ably', secret: { secretName: 'hookhub/sources/ably' } },
      ],
    }),
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Properties?: { Environment?: { Variables?: Record<string, unknown> } } }> };
  const functions = stack.node.findAll().filter((construct): construct is HookhubFunction => construct instanceof HookhubFunction);
  const placeholder = (name: string) => (/_URL$/.test(name) ? 'https://placeholder.example/path' : /_SECRET$/.test(name) ? 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:placeholder' : 'placeholder');

  it('covers every handler', () => {
    expect(new Set(functions.map((fn) => fn.handlerName))).toEqual(new Set(handlers));
  });

  it.each(functions.map((fn) => [fn.handlerName, fn] as const))('%s loads', (name, fn) => {
    const logicalId = Stack.of(fn).getLogicalId(fn.function.node.defaultChild as never);
    const variables = template.Resources[logicalId]!.Properties!.Environment!.Variables!;
    const stackEnvironment = Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, typeof value === 'string' ? value : placeholder(key)]));
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'placeholder',
      AWS_SECRET_ACCESS_KEY: 'placeholder',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...stackEnvironment,
    };
    expect(invokeFresh(name, undefined, env).handlerType).toBe('function');
  });
});
