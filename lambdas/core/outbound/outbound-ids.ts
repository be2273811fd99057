/**
 * Time-ordered ids for outbound records (ULID layout): `<prefix>_` + 10 Crockford base32 characters of the
 * millisecond time + 16 of 80 random bits. Sorting the strings sorts by time, so a DynamoDB sort key made of them
 * answers "since a time" with a key range (replay, attempt log) and "newest first" with a backwards query.
 * Within one millisecond the order is random: nothing here needs more than millisecond order.
 */
import { createHash, randomBytes } from 'node:crypto';

export type TimeOrderedIdPrefix = 'msg' | 'ep' | 'atm' | 'aud' | 'run';

/** Crockford's alphabet: no I, L, O, U, so an id read aloud or retyped cannot be misread. */
const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const RANDOM_BYTES = 10;
/** 10 base32 characters hold 50 bits; the time uses 48 of them, so the first character is at most `7`. */
const MAX_TIME_MS = 2 ** 48 - 1;

const ID_BODY = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const ID_FORMAT = /^(msg|ep|atm|aud|run)_([0-7][0-9A-HJKMNP-TV-Z]{25})$/;

export function timeOrderedId(prefix: TimeOrderedIdPrefix, nowMs: number, random: Buffer = randomBytes(RANDOM_BYTES)): string {
  if (random.length !== RANDOM_BYTES) throw new RangeError(`a time-ordered id takes ${RANDOM_BYTES} random bytes, not ${random.length}`);
  return `${prefix}_${encodeTime(nowMs)}${encodeRandom(random)}`;
}

/** The smallest id of that millisecond: `id >= timeOrderedIdFloor(prefix, ms)` selects the ids made at or after `ms`. */
export function timeOrderedIdFloor(prefix: TimeOrderedIdPrefix, ms: number): string {
  return `${prefix}_${encodeTime(ms)}${'0'.repeat(RANDOM_CHARS)}`;
}

/** The millisecond time an id was made at, or undefined if it is not a time-ordered id. */
export function timeOfId(id: string): number | undefined {
  const match = ID_FORMAT.exec(id);
  if (!match) return undefined;
  let ms = 0;
  for (const character of match[2]!.slice(0, TIME_CHARS)) ms = ms * 32 + CROCKFORD_ALPHABET.indexOf(character);
  return ms;
}

/**
 * The message id of an inbound event republished as an outbound message. It is derived, not random, so a worker
 * that retries the republish writes the same message (same `webhook-id`, which receivers deduplicate on) instead of
 * a second one. `eventId` must be unique across sources (the inbound event's own id is).
 */
export function deterministicMessageId(eventId: string, receivedAtMs: number): string {
  const digest = createHash('sha256').update(eventId, 'utf8').digest();
  return timeOrderedId('msg', receivedAtMs, digest.subarray(0, RANDOM_BYTES));
}

/** Format check for ids taken from a request path: the prefix, then the 26 canonical (upper-case) characters. */
export function isTimeOrderedId(prefix: TimeOrderedIdPrefix, value: string): boolean {
  return value.startsWith(`${prefix}_`) && ID_BODY.test(value.slice(prefix.length + 1));
}

function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw new RangeError(`a time-ordered id needs a whole millisecond time from 0 to ${MAX_TIME_MS}, not ${ms}`);
  }
  let remaining = ms;
  let encoded = '';
  for (let index = 0; index < TIME_CHARS; index++) {
    encoded = CROCKFORD_ALPHABET[remaining % 32]! + encoded;
    remaining = Math.floor(remaining / 32);
  }
  return encoded;
}

/** 80 bits are exactly 16 characters of 5 bits, read from the most significant bit on. */
function encodeRandom(bytes: Buffer): string {
  let encoded = '';
  let bits = 0;
  let bitCount = 0;
  for (const byte of bytes) {
    bits = (bits << 8) | byte;
    bitCount += 8;
    while (bitCount >= 5) {
      bitCount -= 5;
      encoded += CROCKFORD_ALPHABET[(bits >> bitCount) & 31]!;
    }
    bits &= (1 << bitCount) - 1;
  }
  return encoded;
}
