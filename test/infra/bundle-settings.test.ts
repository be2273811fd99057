/**
 * `npm run bench` bundles the handlers itself (lib/bundling.ts `esbuildOptions`) instead of synthesizing the stack:
 * that is only a measurement of what is deployed if both produce the same file from the same settings.
 */
import { App, Stack } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { esbuildOptions, HANDLER_ENTRIES, PROJECT_ROOT } from '../../lib/bundling';
import { HookhubFunction } from '../../lib/constructs/hookhub-function';

const workDir = mkdtempSync(join(tmpdir(), 'hookhub-bundle-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

it('bundles a handler into the same file as the stack does', async () => {
  const app = new App({ outdir: join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'BundleSettings', { env: { account: '123456789012', region: 'eu-west-1' } });
  new HookhubFunction(stack, 'Disconnect', { handler: 'wsDisconnect' });
  const assembly = app.synth();
  const template = assembly.getStackByName('BundleSettings').template as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key: string } } }> };
  const [code] = Object.values(template.Resources).flatMap((resource) => (resource.Type === 'AWS::Lambda::Function' ? [resource.Properties.Code!] : []));
  const assetDir = join(assembly.directory, `asset.${code!.S3Key.replace(/\.zip$/, '')}`);

  const outfile = join(workDir, 'bench', 'index.js');
  await build(esbuildOptions(join(PROJECT_ROOT, HANDLER_ENTRIES.wsDisconnect), outfile));

  expect(readFileSync(outfile).equals(readFileSync(join(assetDir, 'index.js')))).toBe(true);
});
