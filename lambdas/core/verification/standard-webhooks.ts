/**
 * Standard Webhooks (https://www.standardwebhooks.com) signature verification, written against the spec rather than
 * the `standardwebhooks` package so that it verifies exact raw bytes, accepts several active secrets (rotation) and
 * reports why a request failed. The package is used in the tests as the independent signer.
 */
import { createHmac } from 'node:crypto';
import { ConfigurationError, SignatureVerificationError } from '../errors';
import { digestsEqual } from './timing-safe';
import { checkTimestamp } from './replay-window';
import type { HeaderMap } from './header-map';

const SECRET_PREFIX = 'whsec_';

/** The spec's secrets are 24–64 random bytes; a key this short would let anyone forge signatures. */
export const MIN_KEY_BYTES = 16;

export function standardWebhooksKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES) {
    throw new ConfigurationError(`a Standard Webhooks secret must decode to at least ${MIN_KEY_BYTES} bytes`);
  }
  return key;
}

export function signStandardWebhook(secret: string, messageId: string, timestampSeconds: number, body: Buffer | string): string {
  const digest = createHmac('sha256', standardWebhooksKey(secret))
    .update(`${messageId}.${timestampSeconds}.`)
    .update(body)
    .digest('base64');
  return `v1,${digest}`;
}

export function verifyStandardWebhook(input: {
  headers: HeaderMap;
  rawBody: Buffer;
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
}): void {
  const messageId = input.headers['webhook-id'];
  const timestamp = input.headers['webhook-timestamp'];
  const signatureHeader = input.headers['webhook-signature'];
  if (!messageId || !timestamp || !signatureHeader) {
    throw new SignatureVerificationError(
      'missing webhook-id, webhook-timestamp or webhook-signature header',
      'missing_signature',
    );
  }
  const timestampSeconds = checkTimestamp(timestamp, input.nowSeconds, input.toleranceSeconds);

  const presented = signatureHeader
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  if (presented.length === 0) {
    throw new SignatureVerificationError('webhook-signature has no v1 signature', 'invalid_signature');
  }
  for (const secret of input.secrets) {
    const expected = createHmac('sha256', standardWebhooksKey(secret))
      .update(`${messageId}.${timestampSeconds}.`)
      .update(input.rawBody)
      .digest();
    if (presented.some((signature) => digestsEqual(signature, expected))) return;
  }
  throw new SignatureVerificationError('no signature in webhook-signature matches', 'invalid_signature');
}
