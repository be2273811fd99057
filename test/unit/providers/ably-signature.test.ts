import { createHmac } from 'node:crypto';
import { parseAblyApiKey, signAblyBody, verifyAblySignature } from '../../../lambdas/providers/ably/ably-signature';
import { ConfigurationError, SignatureVerificationError } from '../../../lambdas/core/errors';

const body = Buffer.from('{"items":[{"source":"channel.message"}]}');
const CURRENT = 'appAbc.keyOne:secretOneValue';
const NEXT = 'appAbc.keyTwo:secretTwoValue';

/** Signed with Node's crypto, independently of the code under test. */
const nodeSignature = (secret: string, bytes: Buffer = body) => createHmac('sha256', secret).update(bytes).digest('base64');

function verify(headers: Record<string, string>, apiKeys: readonly string[] = [CURRENT], rawBody: Buffer = body) {
  return () => verifyAblySignature({ headers, rawBody, apiKeys });
}

function refusal(run: () => void): { code: string; message: string } | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof SignatureVerificationError) return { code: error.code, message: error.message };
    throw error;
  }
}

describe('Ably batch signature', () => {
  it("matches the reference vector from Ably's docs", () => {
    expect(signAblyBody('{"hello":"world"}', 'keySecretValue')).toBe('EdojfAD6Wp5VRRIu1YcZVRdesvrhec1Es5/kBdZulV8=');
    const headers = { 'x-ably-key': 'app.key', 'x-ably-signature': 'EdojfAD6Wp5VRRIu1YcZVRdesvrhec1Es5/kBdZulV8=' };
    expect(refusal(verify(headers, ['app.key:keySecretValue'], Buffer.from('{"hello":"world"}')))).toBe('accepted');
  });

  it('accepts a body signed with the key X-Ably-Key names, given as appId.keyId or as keyId alone', () => {
    const signature = nodeSignature('secretOneValue');
    expect(refusal(verify({ 'x-ably-key': 'appAbc.keyOne', 'x-ably-signature': signature }))).toBe('accepted');
    expect(refusal(verify({ 'x-ably-key': 'keyOne', 'x-ably-signature': signature }))).toBe('accepted');
  });

  it('accepts either key while two are configured (rotation), each under its own name', () => {
    const keys = [CURRENT, NEXT];
    expect(refusal(verify({ 'x-ably-key': 'appAbc.keyTwo', 'x-ably-signature': nodeSignature('secretTwoValue') }, keys))).toBe('accepted');
    expect(refusal(verify({ 'x-ably-key': 'appAbc.keyOne', 'x-ably-signature': nodeSignature('secretOneValue') }, keys))).toBe('accepted');
    // The second key's secret does not pass under the first key's name.
    expect(refusal(verify({ 'x-ably-key': 'appAbc.keyOne', 'x-ably-signature': nodeSignature('secretTwoValue') }, keys))).toMatchObject({ code: 'invalid_signature' });
  });

  it('checks every configured key of the same name', () => {
    const keys = ['appAbc.keyOne:oldSecret', 'appAbc.keyOne:secretOneValue'];
    expect(refusal(verify({ 'x-ably-key': 'keyOne', 'x-ably-signature': nodeSignature('secretOneValue') }, keys))).toBe('accepted');
  });

  it('refuses a key id no configured key has, even with a signature made by a configured secret', () => {
    const result = refusal(verify({ 'x-ably-key': 'appAbc.keyNine', 'x-ably-signature': nodeSignature('secretOneValue') }));
    expect(result).toEqual({ code: 'invalid_signature', message: 'x-ably-key names no API key configured for this source' });
    // Another app's key with the same key id is not the configured key.
    expect(refusal(verify({ 'x-ably-key': 'appOther.keyOne', 'x-ably-signature': nodeSignature('secretOneValue') }))).toMatchObject({ code: 'invalid_signature' });
  });

  it('refuses a tampered body', () => {
    const signature = nodeSignature('secretOneValue');
    const tampered = Buffer.from(body.toString().replace('message', 'presence'));
    expect(refusal(verify({ 'x-ably-key': 'keyOne', 'x-ably-signature': signature }, [CURRENT], tampered))).toEqual({
      code: 'invalid_signature',
      message: 'x-ably-signature does not match the body',
    });
  });

  it('refuses a missing signature or key header, and a signature that is not base64', () => {
    expect(refusal(verify({ 'x-ably-key': 'keyOne' }))).toMatchObject({ code: 'missing_signature' });
    expect(refusal(verify({ 'x-ably-signature': nodeSignature('secretOneValue') }))).toMatchObject({ code: 'missing_signature' });
    expect(refusal(verify({ 'x-ably-key': 'keyOne', 'x-ably-signature': 'not base64!' }))).toMatchObject({ code: 'invalid_signature' });
    expect(refusal(verify({ 'x-ably-key': 'keyOne', 'x-ably-signature': nodeSignature('secretOneValue').slice(0, 20) }))).toMatchObject({ code: 'invalid_signature' });
  });

  it('never echoes a secret in its messages', () => {
    const messages = [
      refusal(verify({ 'x-ably-key': 'keyOne', 'x-ably-signature': nodeSignature('wrong') })),
      refusal(verify({ 'x-ably-key': 'keyNine', 'x-ably-signature': nodeSignature('wrong') })),
      refusal(verify({ 'x-ably-key': 'keyOne' })),
    ].map((result) => JSON.stringify(result));
    for (const message of messages) expect(message).not.toContain('secretOneValue');
  });

  it('treats a configured key without a secret part as a configuration error, without quoting it', () => {
    const headers = { 'x-ably-key': 'keyOne', 'x-ably-signature': nodeSignature('secretOneValue') };
    expect(verify(headers, ['justASecretValue'])).toThrow(ConfigurationError);
    expect(verify(headers, ['justASecretValue'])).not.toThrow(/justASecretValue/);
    expect(verify(headers, [])).toThrow(ConfigurationError);
    expect(() => parseAblyApiKey('appAbc.keyOne:')).toThrow(ConfigurationError);
    expect(parseAblyApiKey('appAbc.keyOne:se:cret')).toEqual({ keyName: 'appAbc.keyOne', keySecret: 'se:cret' });
  });
});
