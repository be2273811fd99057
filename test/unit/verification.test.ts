import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { sign as signGitHub } from '@octokit/webhooks-methods';
import { verifyStandardWebhook } from '../../lambdas/core/verification/standard-webhooks';
import { verifyHmacSignature, type HmacScheme } from '../../lambdas/core/verification/hmac-signature';
import { verifySharedToken } from '../../lambdas/core/verification/shared-token';
import { verifyRequest } from '../../lambdas/core/verification/verify-request';
import { SignatureVerificationError, ConfigurationError } from '../../lambdas/core/errors';

// The canonical vector every Standard Webhooks reference library tests against.
const CANONICAL = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

function canonical(overrides: { signature?: string; secrets?: string[]; now?: number; payload?: string } = {}) {
  return () =>
    verifyStandardWebhook({
      headers: {
        'webhook-id': CANONICAL.id,
        'webhook-timestamp': String(CANONICAL.timestamp),
        'webhook-signature': overrides.signature ?? CANONICAL.signature,
      },
      rawBody: Buffer.from(overrides.payload ?? CANONICAL.payload),
      secrets: overrides.secrets ?? [CANONICAL.secret],
      nowSeconds: overrides.now ?? CANONICAL.timestamp,
      toleranceSeconds: 300,
    });
}

function reason(check: () => void): string {
  try {
    check();
  } catch (error) {
    if (error instanceof SignatureVerificationError) return error.code;
    throw error;
  }
  return 'verified';
}

describe('Standard Webhooks verification', () => {
  it('accepts the canonical vector', () => {
    expect(reason(canonical())).toBe('verified');
  });

  it('agrees with the reference library on the canonical vector', () => {
    const signed = new Webhook(CANONICAL.secret).sign(CANONICAL.id, new Date(CANONICAL.timestamp * 1000), CANONICAL.payload);
    expect(signed).toBe(CANONICAL.signature);
  });

  it.each([
    ['last character changed', CANONICAL.signature.slice(0, -1) + 'A'],
    ['garbage signature', 'v1,dawfeoifkpqwoekfpqoekf'],
    ['truncated header', CANONICAL.signature.slice(0, 20)],
    ['bare v1,', 'v1,'],
    ['unknown version only', 'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='],
  ])('refuses a signature with %s', (_case, signature) => {
    expect(reason(canonical({ signature }))).toBe('invalid_signature');
  });

  it('accepts the secret without its whsec_ prefix', () => {
    expect(reason(canonical({ secrets: ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }))).toBe('verified');
  });

  it('accepts a secret whose base64 needs padding, written with or without the padding', () => {
    // 23 random bytes encode to 31 characters plus one '='.
    const padded = Buffer.from('0123456789abcdefghijklm').toString('base64');
    expect(padded.endsWith('=')).toBe(true);
    const now = new Date();
    const body = '{"a":1}';
    const signature = new Webhook(`whsec_${padded}`).sign('msg_pad', now, body);
    for (const secret of [`whsec_${padded}`, `whsec_${padded.replace(/=+$/, '')}`]) {
      const check = () =>
        verifyStandardWebhook({
          headers: { 'webhook-id': 'msg_pad', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature },
          rawBody: Buffer.from(body),
          secrets: [secret],
          nowSeconds: Math.floor(now.getTime() / 1000),
          toleranceSeconds: 300,
        });
      expect(reason(check)).toBe('verified');
    }
  });

  it('does not verify the canonical vector with a secret missing its last character (the reference library agrees)', () => {
    expect(reason(canonical({ secrets: ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS'] }))).toBe('invalid_signature');
    const librarySignature = new Webhook('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS').sign(CANONICAL.id, new Date(CANONICAL.timestamp * 1000), CANONICAL.payload);
    expect(librarySignature).not.toBe(CANONICAL.signature);
  });

  it('verifies the exact bytes: re-serialized JSON fails', () => {
    expect(reason(canonical({ payload: '{"test":2432232314}' }))).toBe('invalid_signature');
  });

  it('accepts a header with several signatures when one matches', () => {
    expect(reason(canonical({ signature: `v1,bm90IGl0 ${CANONICAL.signature}` }))).toBe('verified');
  });

  it('accepts any of several active secrets (rotation)', () => {
    const oldSecret = 'whsec_' + Buffer.from('an old secret that is rotating out').toString('base64');
    expect(reason(canonical({ secrets: [oldSecret, CANONICAL.secret] }))).toBe('verified');
    expect(reason(canonical({ secrets: [oldSecret] }))).toBe('invalid_signature');
  });

  it('enforces the 5 minute replay window both ways', () => {
    expect(reason(canonical({ now: CANONICAL.timestamp + 300 }))).toBe('verified');
    expect(reason(canonical({ now: CANONICAL.timestamp - 300 }))).toBe('verified');
    expect(reason(canonical({ now: CANONICAL.timestamp + 301 }))).toBe('stale_timestamp');
    expect(reason(canonical({ now: CANONICAL.timestamp - 301 }))).toBe('stale_timestamp');
  });

  it('refuses to verify with a secret too short to be safe (an empty key would accept forgeries)', () => {
    for (const secret of ['whsec_', '!!!!', 'whsec_' + Buffer.from('fifteen bytes!!').toString('base64')]) {
      expect(canonical({ secrets: [secret] })).toThrow(ConfigurationError);
    }
  });

  it('reports missing headers as missing_signature', () => {
    const check = () =>
      verifyStandardWebhook({ headers: { 'webhook-id': 'x' }, rawBody: Buffer.from('{}'), secrets: [CANONICAL.secret], nowSeconds: 0, toleranceSeconds: 300 });
    expect(reason(check)).toBe('missing_signature');
  });

  it('verifies fresh signatures from the reference library', () => {
    const now = new Date();
    const body = JSON.stringify({ type: 'invoice.paid', amount: 42 });
    const header = new Webhook(CANONICAL.secret).sign('msg_1', now, body);
    const check = () =>
      verifyStandardWebhook({
        headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': header },
        rawBody: Buffer.from(body),
        secrets: [CANONICAL.secret],
        nowSeconds: Math.floor(now.getTime() / 1000),
        toleranceSeconds: 300,
      });
    expect(reason(check)).toBe('verified');
  });
});

describe('generic HMAC verification', () => {
  const github: HmacScheme = { header: 'x-hub-signature-256', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=', toleranceSeconds: 300 };
  const body = '{"action":"opened","number":1}';

  it('verifies a GitHub signature made by @octokit/webhooks-methods', async () => {
    const signature = await signGitHub('It\'s a Secret to Everybody', body);
    const check = () =>
      verifyHmacSignature({ scheme: github, headers: { 'x-hub-signature-256': signature }, rawBody: Buffer.from(body), secrets: ["It's a Secret to Everybody"], nowSeconds: 0 });
    expect(reason(check)).toBe('verified');
  });

  it('refuses a wrong secret, a missing prefix, non-hex and a missing header', async () => {
    const signature = await signGitHub('right', body);
    const run = (headers: Record<string, string>, secrets = ['right']) => () =>
      verifyHmacSignature({ scheme: github, headers, rawBody: Buffer.from(body), secrets, nowSeconds: 0 });
    expect(reason(run({ 'x-hub-signature-256': signature }, ['wrong']))).toBe('invalid_signature');
    expect(reason(run({ 'x-hub-signature-256': signature.slice('sha256='.length) }))).toBe('invalid_signature');
    expect(reason(run({ 'x-hub-signature-256': 'sha256=not-hex!' }))).toBe('invalid_signature');
    expect(reason(run({}))).toBe('missing_signature');
  });

  it.each(['sha1', 'sha512'] as const)('supports %s with base64 encoding', (algorithm) => {
    const scheme: HmacScheme = { header: 'x-signature', algorithm, encoding: 'base64', prefix: '', toleranceSeconds: 300 };
    const signature = createHmac(algorithm, 'key').update(body).digest('base64');
    const check = () => verifyHmacSignature({ scheme, headers: { 'x-signature': signature }, rawBody: Buffer.from(body), secrets: ['key'], nowSeconds: 0 });
    expect(reason(check)).toBe('verified');
  });

  it('signs `${timestamp}.${body}` when a timestamp header is configured, with the replay window', () => {
    const scheme: HmacScheme = { header: 'x-signature', algorithm: 'sha256', encoding: 'hex', prefix: '', timestampHeader: 'x-timestamp', toleranceSeconds: 300 };
    const timestamp = 1_700_000_000;
    const signature = createHmac('sha256', 'key').update(`${timestamp}.${body}`).digest('hex');
    const run = (now: number, headers: Record<string, string> = { 'x-signature': signature, 'x-timestamp': String(timestamp) }) => () =>
      verifyHmacSignature({ scheme, headers, rawBody: Buffer.from(body), secrets: ['key'], nowSeconds: now });
    expect(reason(run(timestamp + 10))).toBe('verified');
    expect(reason(run(timestamp + 301))).toBe('stale_timestamp');
    expect(reason(run(timestamp, { 'x-signature': signature }))).toBe('missing_timestamp');
    expect(reason(run(timestamp, { 'x-signature': signature, 'x-timestamp': String(timestamp + 1) }))).toBe('invalid_signature');
  });
});

describe('shared token verification', () => {
  it('accepts any active token and refuses others', () => {
    const run = (value?: string) => () =>
      verifySharedToken({ header: 'unipile-auth', headers: value === undefined ? {} : { 'unipile-auth': value }, secrets: ['old-token', 'new-token'] });
    expect(reason(run('new-token'))).toBe('verified');
    expect(reason(run('old-token'))).toBe('verified');
    expect(reason(run('new-token '))).toBe('invalid_signature');
    expect(reason(run(undefined))).toBe('missing_signature');
  });
});

describe('verifyRequest', () => {
  it('refuses to verify a signed scheme without secrets (misconfiguration, not a pass)', () => {
    expect(() =>
      verifyRequest({ verification: { scheme: 'token', header: 'x-token' }, headers: { 'x-token': '' }, rawBody: Buffer.alloc(0), secrets: [], nowSeconds: 0 }),
    ).toThrow(ConfigurationError);
  });

  it('lets an explicitly insecure source through', () => {
    expect(() => verifyRequest({ verification: { scheme: 'none' }, headers: {}, rawBody: Buffer.alloc(0), secrets: [], nowSeconds: 0 })).not.toThrow();
  });
});
