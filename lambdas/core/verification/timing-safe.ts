import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time. Both sides are hashed first so that neither the content nor the length
 * of the expected value leaks through timing.
 */
export function secretsEqual(presented: string | Buffer, expected: string | Buffer): boolean {
  const presentedDigest = createHash('sha256').update(presented).digest();
  const expectedDigest = createHash('sha256').update(expected).digest();
  return timingSafeEqual(presentedDigest, expectedDigest);
}

/** Constant-time comparison of two digests; unequal lengths are not secret (they are fixed per algorithm). */
export function digestsEqual(presented: Buffer, expected: Buffer): boolean {
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
