/**
 * Ably's batch-webhook signature: `X-Ably-Signature` = base64(HMAC-SHA256(raw body, keySecret)), made with the API
 * key that `X-Ably-Key` names. A source's secrets are whole Ably API keys (`appId.keyId:keySecret`), several while a
 * key is being replaced, so the key name picks the candidates and the secret part checks the digest.
 */
import { createHmac } from 'node:crypto';
import { ConfigurationError, SignatureVerificationError } from '../../core/errors';
import type { HeaderMap } from '../../core/verification/header-map';
import { digestsEqual } from '../../core/verification/timing-safe';

export const ABLY_SIGNATURE_HEADER = 'x-ably-signature';
export const ABLY_KEY_HEADER = 'x-ably-key';

export interface AblyApiKey {
  /** `appId.keyId`: what Ably shows as the key's name, and what it sends (or its `keyId` part) in X-Ably-Key. */
  keyName: string;
  keySecret: string;
}

/** Splits an API key at its first `:`; a value without one is a configuration mistake, never a client's fault. */
export function parseAblyApiKey(apiKey: string): AblyApiKey {
  const colon = apiKey.indexOf(':');
  if (colon <= 0 || colon === apiKey.length - 1) {
    // The value itself may be a bare secret: it must not reach the error, which is logged.
    throw new ConfigurationError('an Ably API key must have the form keyName:keySecret (appId.keyId:secret)');
  }
  return { keyName: apiKey.slice(0, colon).trim(), keySecret: apiKey.slice(colon + 1).trim() };
}

/** The signature Ably sends for a body: base64 of its HMAC-SHA256 under the key secret. */
export function signAblyBody(rawBody: Buffer | string, keySecret: string): string {
  return createHmac('sha256', keySecret).update(rawBody).digest('base64');
}

/**
 * Throws SignatureVerificationError (401) unless the signature matches the body under one of the configured keys
 * that X-Ably-Key names. The header may carry `appId.keyId` or just `keyId` (the docs do not settle which).
 */
export function verifyAblySignature(input: { headers: HeaderMap; rawBody: Buffer; apiKeys: readonly string[] }): void {
  if (input.apiKeys.length === 0) throw new ConfigurationError('the Ably source has no API key configured');
  // Parsed before looking at the request: a bad key in the configuration fails every request alike, loudly.
  const keys = input.apiKeys.map(parseAblyApiKey);

  const signature = input.headers[ABLY_SIGNATURE_HEADER]?.trim();
  if (!signature) throw new SignatureVerificationError(`missing ${ABLY_SIGNATURE_HEADER} header`, 'missing_signature');
  const keyNamed = input.headers[ABLY_KEY_HEADER]?.trim();
  if (!keyNamed) {
    throw new SignatureVerificationError(`missing ${ABLY_KEY_HEADER} header (the key that signed the request)`, 'missing_signature');
  }
  const candidates = keys.filter((key) => key.keyName === keyNamed || keyIdOf(key.keyName) === keyNamed);
  if (candidates.length === 0) {
    throw new SignatureVerificationError(`${ABLY_KEY_HEADER} names no API key configured for this source`, 'invalid_signature');
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) {
    throw new SignatureVerificationError(`${ABLY_SIGNATURE_HEADER} is not base64`, 'invalid_signature');
  }

  const presented = Buffer.from(signature, 'base64');
  // Every candidate is computed and compared, so timing does not tell which key (if any) matched.
  let matched = false;
  for (const key of candidates) {
    const expected = createHmac('sha256', key.keySecret).update(input.rawBody).digest();
    matched = digestsEqual(presented, expected) || matched;
  }
  if (!matched) throw new SignatureVerificationError(`${ABLY_SIGNATURE_HEADER} does not match the body`, 'invalid_signature');
}

/** `appId.keyId` → `keyId`; a name without an app prefix is its own key id. */
function keyIdOf(keyName: string): string {
  const dot = keyName.indexOf('.');
  return dot === -1 ? keyName : keyName.slice(dot + 1);
}
