import { SignatureVerificationError } from '../errors';

/**
 * Parses a unix-seconds timestamp header and rejects it outside ±tolerance of now, so a captured request cannot be
 * replayed later. Returns the parsed value so the caller signs exactly what was checked.
 */
export function checkTimestamp(value: string, nowSeconds: number, toleranceSeconds: number): number {
  if (!/^\d{1,12}$/.test(value.trim())) {
    throw new SignatureVerificationError('timestamp header is not unix seconds', 'invalid_signature');
  }
  const timestampSeconds = Number(value.trim());
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) {
    throw new SignatureVerificationError(
      `timestamp is outside the ${toleranceSeconds}s replay window`,
      'stale_timestamp',
    );
  }
  return timestampSeconds;
}
