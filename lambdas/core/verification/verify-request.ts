import type { Verification } from '../sources/source-definition';
import { ConfigurationError } from '../errors';
import type { HeaderMap } from './header-map';
import { verifyStandardWebhook } from './standard-webhooks';
import { verifyHmacSignature } from './hmac-signature';
import { verifySharedToken } from './shared-token';

/** Verifies a request against its source's scheme; throws SignatureVerificationError (401) when it fails. */
export function verifyRequest(input: {
  verification: Verification;
  headers: HeaderMap;
  rawBody: Buffer;
  secrets: readonly string[];
  nowSeconds: number;
}): void {
  const { verification } = input;
  if (verification.scheme === 'none') return;
  if (input.secrets.length === 0) {
    // A misconfiguration, not the caller's fault; refusing is the only safe answer.
    throw new ConfigurationError('source has a verification scheme but no secret is configured');
  }
  switch (verification.scheme) {
    case 'standard-webhooks':
      return verifyStandardWebhook({ ...input, toleranceSeconds: verification.toleranceSeconds });
    case 'hmac':
      return verifyHmacSignature({ ...input, scheme: verification });
    case 'token':
      return verifySharedToken({ header: verification.header, headers: input.headers, secrets: input.secrets });
  }
}
