/**
 * Generic HMAC signatures: `<prefix><hex|base64 digest>` in one header, over the raw body or, with a timestamp
 * header, over `${timestamp}.${body}`. Covers GitHub-style (`sha256=` hex) and many in-house senders; provider
 * presets configure it instead of re-implementing it.
 */
import { createHmac } from 'node:crypto';
import { SignatureVerificationError } from '../errors';
import { digestsEqual } from './timing-safe';
import { checkTimestamp } from './replay-window';
import type { HeaderMap } from './header-map';

export interface HmacScheme {
  header: string;
  algorithm: 'sha256' | 'sha1' | 'sha512';
  encoding: 'hex' | 'base64';
  prefix: string;
  timestampHeader?: string;
  toleranceSeconds: number;
}

export function computeHmac(scheme: HmacScheme, secret: string, rawBody: Buffer, timestamp?: string): Buffer {
  const hmac = createHmac(scheme.algorithm, secret);
  if (timestamp !== undefined) hmac.update(`${timestamp}.`);
  return hmac.update(rawBody).digest();
}

export function verifyHmacSignature(input: {
  scheme: HmacScheme;
  headers: HeaderMap;
  rawBody: Buffer;
  secrets: readonly string[];
  nowSeconds: number;
}): void {
  const { scheme, headers } = input;
  const headerValue = headers[scheme.header]?.trim();
  if (!headerValue) throw new SignatureVerificationError(`missing ${scheme.header} header`, 'missing_signature');

  let timestamp: string | undefined;
  if (scheme.timestampHeader) {
    timestamp = headers[scheme.timestampHeader]?.trim();
    if (!timestamp) throw new SignatureVerificationError(`missing ${scheme.timestampHeader} header`, 'missing_timestamp');
    checkTimestamp(timestamp, input.nowSeconds, scheme.toleranceSeconds);
  }

  if (!headerValue.startsWith(scheme.prefix)) {
    throw new SignatureVerificationError(`${scheme.header} does not start with '${scheme.prefix}'`, 'invalid_signature');
  }
  const encoded = headerValue.slice(scheme.prefix.length);
  const wellFormed = scheme.encoding === 'hex' ? /^[0-9a-fA-F]+$/.test(encoded) : /^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded);
  if (!wellFormed) throw new SignatureVerificationError(`${scheme.header} is not ${scheme.encoding}`, 'invalid_signature');
  const presented = Buffer.from(encoded, scheme.encoding);

  for (const secret of input.secrets) {
    if (digestsEqual(presented, computeHmac(scheme, secret, input.rawBody, timestamp))) return;
  }
  throw new SignatureVerificationError(`${scheme.header} does not match`, 'invalid_signature');
}
