/** A shared secret sent verbatim in a header (Unipile, Ably single-mode custom headers, ServiceM8 URL tokens). */
import { SignatureVerificationError } from '../errors';
import { secretsEqual } from './timing-safe';
import type { HeaderMap } from './header-map';

export function verifySharedToken(input: { header: string; headers: HeaderMap; secrets: readonly string[] }): void {
  const presented = input.headers[input.header];
  if (!presented) throw new SignatureVerificationError(`missing ${input.header} header`, 'missing_signature');
  // Compare against every secret without stopping early, so timing does not reveal which one matched.
  let matched = false;
  for (const secret of input.secrets) matched = secretsEqual(presented, secret) || matched;
  if (!matched) throw new SignatureVerificationError(`${input.header} does not match`, 'invalid_signature');
}
