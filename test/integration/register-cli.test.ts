/**
 * `npm run register -- ably` as a person runs it: bin/register.ts in a child process (through tsx, as the npm
 * script does) against the loopback Control API, with a temporary config file and the secrets in env variables.
 * Run twice, it leaves one rule.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../fixtures/runtime-process';
import { spawnWatched } from '../fixtures/watched-process';
import { startFakeAblyControl, type FakeAblyControl } from '../fixtures/fake-ably-control';

const API_KEY = 'appAbc.key123:keySecretValue-must-not-leak';
const HOOK_TOKEN = 'hook-token-value-must-not-leak';
const PUBLIC_URL = 'https://tunnel.example.com';

const directory = mkdtempSync(join(tmpdir(), 'hookhub-register-'));
const configPath = join(directory, 'hookhub.config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    sources: [
      { id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_DEMO_SECRET' } },
      {
        id: 'ably',
        preset: 'ably',
        secret: { env: 'TEST_ABLY_API_KEY' },
        options: {
          channelFilter: '^smartadmin-.*',
          registration: { controlToken: { env: 'TEST_ABLY_CONTROL_TOKEN' } },
          singleModeToken: { secret: { env: 'TEST_ABLY_HOOK_TOKEN' } },
        },
      },
    ],
  }),
);

let fake: FakeAblyControl;
beforeEach(async () => {
  fake = await startFakeAblyControl();
});
afterEach(() => fake.close());
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function register(args: string[], environment: Record<string, string | undefined> = {}) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOOKHUB_CONFIG: configPath,
    HOOKHUB_ABLY_CONTROL_URL: fake.url,
    HOOKHUB_PUBLIC_URL: PUBLIC_URL,
    TEST_ABLY_API_KEY: API_KEY,
    TEST_ABLY_CONTROL_TOKEN: fake.token,
    TEST_ABLY_HOOK_TOKEN: HOOK_TOKEN,
    ...environment,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const child = spawnWatched(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bin', 'register.ts'), ...args], { cwd: REPO_ROOT, env });
  try {
    const exit = await child.waitForExit(30_000);
    return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() };
  } catch (error) {
    await child.stop('SIGKILL', 5_000).catch(() => undefined);
    throw error;
  }
}

it('registered twice, leaves one rule pointing at the public URL, signed with the key', async () => {
  const first = await register(['ably']);
  const second = await register(['ably']);

  const rules = fake.rules('appAbc');
  expect(rules).toHaveLength(1);
  const [rule] = rules;
  expect(first).toEqual({ code: 0, stdout: `created: Ably rule ${rule!.id} in app appAbc → ${PUBLIC_URL}/hooks/ably\n`, stderr: '' });
  expect(second).toEqual({ code: 0, stdout: `exists: Ably rule ${rule!.id} in app appAbc → ${PUBLIC_URL}/hooks/ably\n`, stderr: '' });
  expect(rule).toMatchObject({
    requestMode: 'batch',
    source: { channelFilter: '^smartadmin-.*', type: 'channel.message' },
    target: { url: `${PUBLIC_URL}/hooks/ably`, format: 'json', enveloped: true, signingKeyId: 'key123', headers: [{ name: 'x-hookhub-token', value: HOOK_TOKEN }] },
  });
});

it('defaults the target to the local runtime on $PORT, and says Ably cannot reach it', async () => {
  const result = await register(['ably'], { HOOKHUB_PUBLIC_URL: undefined, HOOKHUB_URL: undefined, PORT: '3999' });
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('http://127.0.0.1:3999/hooks/ably is a loopback address Ably cannot reach');
  expect(fake.rules('appAbc').map((rule) => rule.target?.url)).toEqual(['http://127.0.0.1:3999/hooks/ably']);
});

it('without a control token prints the manual steps, creates nothing and exits 0', async () => {
  const result = await register(['ably'], { TEST_ABLY_CONTROL_TOKEN: undefined });
  expect(result.code).toBe(0);
  for (const part of ['No Ably control token', 'TEST_ABLY_CONTROL_TOKEN', 'Integrations', `${PUBLIC_URL}/hooks/ably`, 'Batch', 'JSON', 'Enveloped: on', '^smartadmin-.*', 'appAbc.key123']) {
    expect(result.stdout).toContain(part);
  }
  expect(result.stdout).not.toContain('keySecretValue');
  expect(fake.requests).toEqual([]);
});

it('prints an Ably error clearly, without the token, and exits 1', async () => {
  const result = await register(['ably'], { TEST_ABLY_CONTROL_TOKEN: 'wrong-token-must-not-leak' });
  expect(result.code).toBe(1);
  expect(result.stderr).toBe('register: Ably Control API GET /apps/appAbc/rules answered 401: Access denied: invalid token (Ably error 40100) (is the control token valid and not expired?)\n');
  expect(`${result.stdout}${result.stderr}`).not.toContain('must-not-leak');
  expect(fake.rules('appAbc')).toEqual([]);
});

it('without an argument lists the sources it can register; refuses one that has no rule', async () => {
  const list = await register([]);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain('ably   (preset ably; control token configured)');
  expect(list.stdout).not.toContain('demo');

  const demo = await register(['demo']);
  expect(demo).toMatchObject({ code: 1, stderr: expect.stringContaining(`source 'demo' has nothing to register`) });
});
