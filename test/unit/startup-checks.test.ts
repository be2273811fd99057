/**
 * The local runtime's start-up checks: every setting that would otherwise start fine and then answer 500 (or
 * misbehave quietly) is refused up front with one line naming the variable, and every problem is listed at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStartupSettings } from '../../lib/local/startup-checks';
import { MAX_BODY_BYTES_SETTING } from '../../lambdas/config';
import { DEV_DEMO_SECRET } from '../../lib/local/local-settings';
import { StartupRefusedError, startupFailureLines } from '../../lib/local/startup-failure';
import { DataDirectoryUnavailableError } from '../../lib/local/data-directory-lock';
import { signStandardWebhook } from '../../lambdas/core/verification/standard-webhooks';
import { MIN_ADMIN_KEY_LENGTH } from '../../lambdas/core/auth/admin-key';

const directory = mkdtempSync(join(tmpdir(), 'hookhub-checks-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A config file holding `sources`; returns its path for HOOKHUB_CONFIG. */
function configFile(name: string, sources: unknown[]): string {
  const path = join(directory, `${name}.json`);
  writeFileSync(path, JSON.stringify({ sources }));
  return path;
}

const standardWebhooksSource = { id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'CHECK_DEMO_SECRET' } };
const hmacSource = { id: 'github', verification: { scheme: 'hmac', header: 'X-Hub-Signature-256' }, secret: { env: 'CHECK_GITHUB_SECRET' } };
const tokenSource = { id: 'tokened', verification: { scheme: 'token', header: 'X-Token' }, secret: { env: 'CHECK_TOKEN' } };
const unsignedSource = { id: 'open', verification: { scheme: 'none' }, insecure: true };

/** Standard Webhooks secret whose key is `bytes` long. */
const secretOfBytes = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;

function problemsOf(environment: NodeJS.ProcessEnv): string[] {
  const result = checkStartupSettings(environment);
  return result.ok ? [] : result.problems;
}

describe('checkStartupSettings', () => {
  it('accepts the shipped config with the development defaults and returns the settings to start with', () => {
    const result = checkStartupSettings({ HOOKHUB_DEMO_SECRET: DEV_DEMO_SECRET });
    expect(result).toEqual({
      ok: true,
      settings: expect.objectContaining({ port: 3000, wsPort: 3001, logLevel: 'WARN', retentionDays: 30, fsync: false }),
    });
  });

  it('names the variable of a source whose secret is not set, or set but empty', () => {
    const HOOKHUB_CONFIG = configFile('unset', [standardWebhooksSource, hmacSource, tokenSource, unsignedSource]);
    expect(problemsOf({ HOOKHUB_CONFIG, CHECK_GITHUB_SECRET: 'gh', CHECK_TOKEN: ' , ' })).toEqual([
      'CHECK_DEMO_SECRET is not set (source "demo" needs its secret)',
      'CHECK_TOKEN is empty (source "tokened" needs its secret)',
    ]);
  });

  it('starts with examples/providers.config.json once its Ably key is set, and names the key variable otherwise', () => {
    const HOOKHUB_CONFIG = 'examples/providers.config.json';
    expect(problemsOf({ HOOKHUB_CONFIG, ABLY_API_KEY: 'appId.keyId:keySecret' })).toEqual([]);
    expect(problemsOf({ HOOKHUB_CONFIG })).toEqual(['ABLY_API_KEY is not set (source "ably" needs its Ably API key, "appId.keyId:keySecret")']);
    expect(problemsOf({ HOOKHUB_CONFIG, ABLY_API_KEY: 'just-a-secret' })).toEqual([
      'ABLY_API_KEY is not an Ably API key ("appId.keyId:keySecret", as the Ably dashboard shows it)',
    ]);
  });

  it('refuses a source that only names a Secrets Manager secret, which the local runtime cannot read', () => {
    const HOOKHUB_CONFIG = configFile('aws-only', [{ ...hmacSource, secret: { secretName: 'hookhub/sources/github' } }]);
    expect(problemsOf({ HOOKHUB_CONFIG })).toEqual([
      'source "github" names no secret.env variable; the local runtime reads source secrets from the environment',
    ]);
  });

  it('refuses exactly the Standard Webhooks secrets the verifier refuses, without printing them', () => {
    const HOOKHUB_CONFIG = configFile('short-key', [standardWebhooksSource]);
    const tooShort = secretOfBytes(15);
    const longEnough = secretOfBytes(16);
    // The same secrets through the verifier's signing path: the check and the verifier agree on the boundary.
    expect(() => signStandardWebhook(tooShort, 'msg_1', 0, '{}')).toThrow();
    expect(() => signStandardWebhook(longEnough, 'msg_1', 0, '{}')).not.toThrow();

    const problems = problemsOf({ HOOKHUB_CONFIG, CHECK_DEMO_SECRET: tooShort });
    expect(problems).toEqual(['CHECK_DEMO_SECRET cannot be used by source "demo": a Standard Webhooks secret must decode to at least 16 bytes']);
    expect(problemsOf({ HOOKHUB_CONFIG, CHECK_DEMO_SECRET: longEnough })).toEqual([]);
    expect(problemsOf({ HOOKHUB_CONFIG, CHECK_DEMO_SECRET: `${longEnough} ${tooShort}` })).toEqual([
      'secret 2 of 2 in CHECK_DEMO_SECRET cannot be used by source "demo": a Standard Webhooks secret must decode to at least 16 bytes',
    ]);
    expect(problems.join('\n')).not.toContain(tooShort.slice('whsec_'.length));
  });

  it('refuses an admin key shorter than the read API and WebSocket accept', () => {
    expect(problemsOf({ HOOKHUB_DEMO_SECRET: DEV_DEMO_SECRET, HOOKHUB_ADMIN_KEY: 'abcde' })).toEqual([
      `HOOKHUB_ADMIN_KEY is 5 characters; it must be at least ${MIN_ADMIN_KEY_LENGTH}`,
    ]);
    expect(problemsOf({ HOOKHUB_DEMO_SECRET: DEV_DEMO_SECRET, HOOKHUB_ADMIN_KEY: 'k'.repeat(MIN_ADMIN_KEY_LENGTH) })).toEqual([]);
  });

  it('reports every problem at once, one line each, each naming its variable', () => {
    const problems = problemsOf({
      HOOKHUB_CONFIG: configFile('all-wrong', [standardWebhooksSource]),
      HOOKHUB_ADMIN_KEY: 'short',
      PORT: 'http',
      WS_PORT: '70000',
      HOOKHUB_LOG_LEVEL: 'chatty',
      HOOKHUB_MAX_BODY_BYTES: '0',
      HOOKHUB_RETENTION_DAYS: '-1',
      HOOKHUB_QUEUE_FSYNC: 'true',
    });
    expect(problems).toHaveLength(8);
    const variables = ['CHECK_DEMO_SECRET', 'HOOKHUB_ADMIN_KEY', 'PORT', 'WS_PORT', 'HOOKHUB_LOG_LEVEL', 'HOOKHUB_MAX_BODY_BYTES', 'HOOKHUB_RETENTION_DAYS', 'HOOKHUB_QUEUE_FSYNC'];
    variables.forEach((variable, index) => expect(problems[index]).toContain(variable));
    for (const problem of problems) expect(problem).not.toContain('\n');
  });

  it('refuses a body limit whose bodies could not all be stored, naming the largest that can', () => {
    // 256 KiB was accepted before: kept as base64 such a body is 341 KiB, leaving under the 64 KiB the limit keeps
    // for headers, ids and lastError in a 400 KiB item.
    expect(problemsOf({ HOOKHUB_DEMO_SECRET: DEV_DEMO_SECRET, HOOKHUB_MAX_BODY_BYTES: String(256 * 1024) })).toEqual([
      `environment variable HOOKHUB_MAX_BODY_BYTES must be an integer from 1 to ${MAX_BODY_BYTES_SETTING} (a larger body could not always be stored: a DynamoDB item holds 400 KiB, and a body that is not UTF-8 is kept as base64)`,
    ]);
    expect(MAX_BODY_BYTES_SETTING).toBe(258_048);
    expect(problemsOf({ HOOKHUB_DEMO_SECRET: DEV_DEMO_SECRET, HOOKHUB_MAX_BODY_BYTES: String(MAX_BODY_BYTES_SETTING) })).toEqual([]);
  });

  it('accepts valid values of every optional variable and passes them on', () => {
    const result = checkStartupSettings({
      HOOKHUB_DEMO_SECRET: DEV_DEMO_SECRET,
      PORT: '4000',
      WS_PORT: '0',
      HOOKHUB_LOG_LEVEL: 'debug',
      HOOKHUB_MAX_BODY_BYTES: '1024',
      HOOKHUB_RETENTION_DAYS: '7',
      HOOKHUB_QUEUE_FSYNC: '1',
    });
    expect(result).toEqual({
      ok: true,
      settings: expect.objectContaining({ port: 4000, wsPort: 0, logLevel: 'DEBUG', retentionDays: 7, fsync: true }),
    });
  });

  it('refuses the same fixed port for HTTP and WebSocket', () => {
    expect(problemsOf({ HOOKHUB_DEMO_SECRET: DEV_DEMO_SECRET, PORT: '4000', WS_PORT: '4000' })).toEqual(['PORT and WS_PORT are both 4000; they must differ']);
  });

  it('turns each config file issue into its own line', () => {
    const HOOKHUB_CONFIG = configFile('invalid', [{ id: 'Bad Id', verification: { scheme: 'none' } }]);
    const problems = problemsOf({ HOOKHUB_CONFIG });
    expect(problems.length).toBeGreaterThanOrEqual(2);
    for (const problem of problems) expect(problem).toMatch(/^invalid hookhub config: sources\.0/);
  });
});

describe('startupFailureLines', () => {
  it('keeps checked problems as they are, one per line', () => {
    expect(startupFailureLines(new StartupRefusedError(['A is not set', 'B is too short']))).toEqual(['A is not set', 'B is too short']);
  });

  it('names the variable whose port is already taken', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:4001'), { code: 'EADDRINUSE', port: 4001 });
    expect(startupFailureLines(inUse, { PORT: 4000, WS_PORT: 4001 })).toEqual([
      'port 4001 is already in use; stop what listens there, or set WS_PORT to another port (0 picks a free one)',
    ]);
  });

  it('gives any other error as one line, without its stack', () => {
    const lines = startupFailureLines(new DataDirectoryUnavailableError('data directory /x is not writable'));
    expect(lines).toEqual(['data directory /x is not writable']);
    expect(startupFailureLines(new TypeError('first\n    at somewhere (file.ts:1:1)'))).toEqual(['first; at somewhere (file.ts:1:1)']);
  });
});
