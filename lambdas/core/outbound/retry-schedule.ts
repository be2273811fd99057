/**
 * When a failed delivery is tried again. The schedule (Svix's) spreads seven retries over about 27 hours; ±20%
 * jitter keeps the retries of messages that failed together (an endpoint outage) from arriving together. A server
 * that answers with Retry-After is never retried sooner than it asked, up to a cap: see MAX_RETRY_AFTER_SECONDS.
 */

/** Seconds before retry 1, 2, …: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/**
 * The longest Retry-After honoured: a server asking for a day (or sending a date years ahead by mistake) would
 * otherwise park a delivery past the point where anyone still wants it. Longer requests wait this long.
 */
export const MAX_RETRY_AFTER_SECONDS = 6 * 60 * 60;

const JITTER_FRACTION = 0.2;

/**
 * The delay before the next try, or undefined when the schedule has no try left. The delay is the schedule's
 * entry with jitter, raised to the server's Retry-After (capped) when that is longer: it never shortens the
 * schedule, and never retries sooner than the server asked as long as it asked for at most the cap.
 */
export function nextRetryDelaySeconds(input: {
  schedule: readonly number[];
  /** The try that just failed, 1-based. */
  attemptNumber: number;
  retryAfterSeconds?: number;
  /** A number in [0, 1), as Math.random gives. */
  random: () => number;
}): number | undefined {
  const { schedule, attemptNumber } = input;
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new RangeError(`attemptNumber counts tries from 1; got ${attemptNumber}`);
  }
  const scheduled = schedule[attemptNumber - 1];
  if (scheduled === undefined) return undefined;

  const jitter = 1 + (input.random() * 2 - 1) * JITTER_FRACTION;
  const jittered = Math.max(1, Math.round(scheduled * jitter));
  const retryAfter = input.retryAfterSeconds;
  if (retryAfter === undefined || !Number.isFinite(retryAfter)) return jittered;
  const honoured = Math.ceil(Math.min(Math.max(retryAfter, 0), MAX_RETRY_AFTER_SECONDS));
  return Math.max(jittered, honoured);
}

/** delta-seconds (RFC 9110 §10.2.3); a fraction is tolerated and rounded up, a sign allowed so `-5` reads as 0. */
const DELTA_SECONDS = /^-?\d+(\.\d+)?$/;
/** Every HTTP-date form (IMF-fixdate, RFC 850, asctime) has an hh:mm:ss time; Date.parse alone accepts too much (`5 apples`). */
const HTTP_DATE_TIME = /\b\d{2}:\d{2}:\d{2}\b/;
/** HTTP dates are always GMT, but asctime's form names no zone, and Date.parse would read it as local time. */
const NAMES_A_ZONE = /\b(GMT|UTC)\b/i;

/** Seconds from `nowMs` that a Retry-After header asks to wait; undefined for a missing or unreadable value, 0 for the past. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (DELTA_SECONDS.test(trimmed)) return Math.max(0, Math.ceil(Number(trimmed)));
  if (!HTTP_DATE_TIME.test(trimmed)) return undefined;
  const at = Date.parse(NAMES_A_ZONE.test(trimmed) ? trimmed : `${trimmed} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}
