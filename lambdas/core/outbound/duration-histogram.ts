/**
 * Delivery durations as a log-scale histogram, so hourly stats can hold them in a few dozen counters and add
 * across hours and workers, and p50/p95 still come out within one bucket. Bucket i counts durations up to
 * 1.25^i ms (bucket 0: up to 1 ms; the last: up to 60 s and anything longer), so a percentile read as its bucket's
 * upper bound is at most 25% above the true value: 51 buckets cover 1 ms to 60 s.
 */

/** Each bucket's upper bound is this factor above the previous one; the relative error of a percentile is below it. */
export const DURATION_BUCKET_GROWTH = 1.25;
/** Durations longer than this (past every delivery timeout) count in the last bucket. */
export const MAX_TRACKED_DURATION_MS = 60_000;

/** Upper bounds in ms, ascending: 1, 1.25, 1.5625, … 56 051, then 60 000. */
const UPPER_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let bound = 1; bound < MAX_TRACKED_DURATION_MS; bound *= DURATION_BUCKET_GROWTH) bounds.push(bound);
  bounds.push(MAX_TRACKED_DURATION_MS);
  return bounds;
})();

export const DURATION_BUCKET_COUNT = UPPER_BOUNDS_MS.length;
const LAST_BUCKET = DURATION_BUCKET_COUNT - 1;

/** The bucket a duration counts in: the first whose upper bound is at least the duration. */
export function durationBucket(ms: number): number {
  if (Number.isNaN(ms)) throw new RangeError('a duration must be a number of milliseconds, not NaN');
  if (ms >= MAX_TRACKED_DURATION_MS) return LAST_BUCKET;
  let low = 0;
  let high = LAST_BUCKET;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (UPPER_BOUNDS_MS[middle]! >= ms) high = middle;
    else low = middle + 1;
  }
  return low;
}

export function bucketUpperBoundMs(index: number): number {
  const bound = Number.isInteger(index) ? UPPER_BOUNDS_MS[index] : undefined;
  if (bound === undefined) throw new RangeError(`duration buckets are numbered 0 to ${LAST_BUCKET}, not ${index}`);
  return bound;
}

/**
 * The upper bound of the bucket that holds the given percentile (nearest rank), or undefined with no durations.
 * Keys that are not bucket numbers and counts that are not positive are skipped (stored data, possibly older).
 */
export function percentileFromBuckets(buckets: Record<number, number>, percentile: number): number | undefined {
  if (!(percentile >= 0 && percentile <= 100)) throw new RangeError(`a percentile is from 0 to 100, not ${percentile}`);
  const counts = new Array<number>(DURATION_BUCKET_COUNT).fill(0);
  for (const [key, count] of Object.entries(buckets)) {
    const index = Number(key);
    if (Number.isInteger(index) && index >= 0 && index <= LAST_BUCKET && Number.isFinite(count) && count > 0) counts[index]! += count;
  }
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil((percentile / 100) * total));
  let seen = 0;
  for (let index = 0; index <= LAST_BUCKET; index++) {
    seen += counts[index]!;
    if (seen >= rank) return UPPER_BOUNDS_MS[index]!;
  }
  return UPPER_BOUNDS_MS[LAST_BUCKET]!;
}

/** The sum of two histograms (e.g. two hours); neither argument is changed. */
export function mergeBuckets(a: Record<number, number>, b: Record<number, number>): Record<number, number> {
  const merged: Record<number, number> = { ...a };
  for (const [key, count] of Object.entries(b)) {
    const index = Number(key);
    merged[index] = (merged[index] ?? 0) + count;
  }
  return merged;
}
