/**
 * `npx cdk synth` as a user runs it: the pinned CLI reads the cloud assembly aws-cdk-lib writes, bin/app.ts loads
 * hookhub.config.json, esbuild bundles every handler, and no AWS credentials are needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const outdir = mkdtempSync(join(tmpdir(), 'hookhub-synth-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

it('synthesizes the stack with the CDK CLI and no credentials', () => {
  const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
  const template = JSON.parse(readFileSync(join(outdir, 'Hookhub.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { RouteKey?: string } }> };
  const routes = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route').map((resource) => resource.Properties.RouteKey);
  expect(routes).toEqual(expect.arrayContaining(['ANY /hooks/{source}', '$connect']));
});
