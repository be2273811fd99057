/**
 * What the stack deploys as Lambda code. `npm run bench` bundles the handlers itself (lib/bundling.ts
 * `esbuildOptions`) instead of synthesizing the stack: that is only a measurement of what is deployed if both produce
 * the same file from the same settings.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { esbuildOptions, HANDLER_ENTRIES, PROJECT_ROOT } from '../../lib/bundling';
import { HookhubFunction, SOURCE_MAPS_CONTEXT_KEY } from '../../lib/constructs/hookhub-function';

const workDir = mkdtempSync(join(tmpdir(), 'hookhub-bundle-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

type FunctionResource = { Type: string; Properties: { Code: { S3Key: string }; Environment: { Variables: Record<string, unknown> } } };

let assetDir: string;
let functionResource: FunctionResource;

beforeAll(() => {
  const app = new App({ outdir: join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'BundleSettings', { env: { account: '123456789012', region: 'eu-west-1' } });
  new HookhubFunction(stack, 'Disconnect', { handler: 'wsDisconnect' });
  const assembly = app.synth();
  const template = assembly.getStackByName('BundleSettings').template as { Resources: Record<string, FunctionResource> };
  functionResource = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function')!;
  assetDir = join(assembly.directory, `asset.${functionResource.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
});

it('bundles a handler into the same file as the stack does', async () => {
  const outfile = join(workDir, 'bench', 'index.js');
  await build(esbuildOptions(join(PROJECT_ROOT, HANDLER_ENTRIES.wsDisconnect), outfile));

  expect(readFileSync(outfile).equals(readFileSync(join(assetDir, 'index.js')))).toBe(true);
});

it('ships the source map but does not make Node read it on every cold start', () => {
  expect(existsSync(join(assetDir, 'index.js.map'))).toBe(true);
  expect(functionResource.Properties.Environment.Variables).not.toHaveProperty('NODE_OPTIONS');
});

it(`turns source maps on with -c ${SOURCE_MAPS_CONTEXT_KEY}=true`, () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], [SOURCE_MAPS_CONTEXT_KEY]: 'true' } });
  const stack = new Stack(app, 'SourceMaps');
  new HookhubFunction(stack, 'Disconnect', { handler: 'wsDisconnect' });
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
  });
});
