/**
 * The admin key guards the read API and the WebSocket $connect. Only its SHA-256 digest is kept in memory after
 * start-up and compared in constant time, so the key itself never sits in a comparison or a log line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors';

export type AdminKeyDigest = Buffer & { readonly __brand?: 'AdminKeyDigest' };

/** Keys shorter than this are refused at start-up: they can be guessed. */
export const MIN_ADMIN_KEY_LENGTH = 16;

export function digestAdminKey(key: string): AdminKeyDigest {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function isAdminKey(presented: string | undefined, expected: AdminKeyDigest): boolean {
  if (!presented) return false;
  return timingSafeEqual(digestAdminKey(presented), expected);
}

/** Accepts `Authorization: Bearer <key>`; throws 401 otherwise. */
export function requireBearerAdminKey(authorizationHeader: string | undefined, expected: AdminKeyDigest): void {
  const match = /^Bearer\s+(.+)$/i.exec(authorizationHeader?.trim() ?? '');
  if (!match || !isAdminKey(match[1], expected)) throw new UnauthorizedError();
}
