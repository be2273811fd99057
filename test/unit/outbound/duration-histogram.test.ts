import {
  bucketUpperBoundMs,
  DURATION_BUCKET_COUNT,
  DURATION_BUCKET_GROWTH,
  durationBucket,
  mergeBuckets,
  percentileFromBuckets,
} from '../../../lambdas/core/outbound/duration-histogram';

/** A histogram holding the given durations. */
function histogramOf(durationsMs: readonly number[]): Record<number, number> {
  const buckets: Record<number, number> = {};
  for (const ms of durationsMs) {
    const index = durationBucket(ms);
    buckets[index] = (buckets[index] ?? 0) + 1;
  }
  return buckets;
}

describe('duration buckets', () => {
  it('span 1 ms to 60 s in steps of 1.25', () => {
    expect(DURATION_BUCKET_GROWTH).toBe(1.25);
    expect(DURATION_BUCKET_COUNT).toBe(51);
    expect(bucketUpperBoundMs(0)).toBe(1);
    expect(bucketUpperBoundMs(1)).toBe(1.25);
    expect(bucketUpperBoundMs(10)).toBeCloseTo(1.25 ** 10, 9);
    expect(bucketUpperBoundMs(DURATION_BUCKET_COUNT - 1)).toBe(60_000);
    expect(bucketUpperBoundMs(DURATION_BUCKET_COUNT - 2)).toBeLessThan(60_000);
  });

  it('put each duration in the first bucket whose upper bound holds it', () => {
    for (const ms of [1, 2, 3, 7, 10, 99, 100, 101, 250, 1_000, 4_321, 15_000, 59_999]) {
      const index = durationBucket(ms);
      expect(bucketUpperBoundMs(index)).toBeGreaterThanOrEqual(ms);
      if (index > 0) expect(bucketUpperBoundMs(index - 1)).toBeLessThan(ms);
      // The upper bound overstates a duration by less than the growth factor.
      expect(bucketUpperBoundMs(index) / ms).toBeLessThan(DURATION_BUCKET_GROWTH);
    }
  });

  it('put a bound into its own bucket, not the next', () => {
    expect(durationBucket(1.25)).toBe(1);
    expect(durationBucket(1.2500001)).toBe(2);
  });

  it('put zero, negative (clock step) and sub-millisecond durations in bucket 0 and long ones in the last', () => {
    expect(durationBucket(0)).toBe(0);
    expect(durationBucket(-5)).toBe(0);
    expect(durationBucket(0.4)).toBe(0);
    expect(durationBucket(60_000)).toBe(DURATION_BUCKET_COUNT - 1);
    expect(durationBucket(3_600_000)).toBe(DURATION_BUCKET_COUNT - 1);
    expect(durationBucket(Infinity)).toBe(DURATION_BUCKET_COUNT - 1);
  });

  it('refuse NaN and bucket numbers that do not exist', () => {
    expect(() => durationBucket(NaN)).toThrow(RangeError);
    expect(() => bucketUpperBoundMs(-1)).toThrow(RangeError);
    expect(() => bucketUpperBoundMs(DURATION_BUCKET_COUNT)).toThrow(RangeError);
    expect(() => bucketUpperBoundMs(1.5)).toThrow(RangeError);
  });
});

describe('percentileFromBuckets', () => {
  it('is undefined without durations', () => {
    expect(percentileFromBuckets({}, 50)).toBeUndefined();
    expect(percentileFromBuckets({ 3: 0 }, 50)).toBeUndefined();
  });

  it('answers the upper bound of the bucket holding the nearest rank', () => {
    // 90 fast deliveries at 20 ms and 10 slow ones at 2 s.
    const buckets = histogramOf([...Array<number>(90).fill(20), ...Array<number>(10).fill(2_000)]);
    expect(percentileFromBuckets(buckets, 50)).toBe(bucketUpperBoundMs(durationBucket(20)));
    expect(percentileFromBuckets(buckets, 90)).toBe(bucketUpperBoundMs(durationBucket(20)));
    expect(percentileFromBuckets(buckets, 91)).toBe(bucketUpperBoundMs(durationBucket(2_000)));
    expect(percentileFromBuckets(buckets, 95)).toBe(bucketUpperBoundMs(durationBucket(2_000)));
    expect(percentileFromBuckets(buckets, 0)).toBe(bucketUpperBoundMs(durationBucket(20)));
    expect(percentileFromBuckets(buckets, 100)).toBe(bucketUpperBoundMs(durationBucket(2_000)));
  });

  it('stays within one bucket of the exact percentile of 1 … 1000 ms', () => {
    const durations = Array.from({ length: 1000 }, (_, index) => index + 1);
    const buckets = histogramOf(durations);
    const p50 = percentileFromBuckets(buckets, 50)!;
    const p95 = percentileFromBuckets(buckets, 95)!;
    expect(p50).toBeGreaterThanOrEqual(500);
    expect(p50).toBeLessThan(500 * DURATION_BUCKET_GROWTH);
    expect(p95).toBeGreaterThanOrEqual(950);
    expect(p95).toBeLessThan(950 * DURATION_BUCKET_GROWTH);
  });

  it('reads buckets in numeric order, whatever order the keys come in', () => {
    expect(percentileFromBuckets({ 40: 1, 5: 1, 12: 1 }, 50)).toBe(bucketUpperBoundMs(12));
  });

  it('skips keys that are not bucket numbers and counts that are not positive', () => {
    expect(percentileFromBuckets({ 99: 5, [-1]: 5, 10: 1, 3: -4 }, 50)).toBe(bucketUpperBoundMs(10));
  });

  it('refuses a percentile outside 0..100', () => {
    expect(() => percentileFromBuckets({ 1: 1 }, 101)).toThrow(RangeError);
    expect(() => percentileFromBuckets({ 1: 1 }, -1)).toThrow(RangeError);
    expect(() => percentileFromBuckets({ 1: 1 }, NaN)).toThrow(RangeError);
  });
});

describe('mergeBuckets', () => {
  it('adds the counts bucket by bucket without changing its arguments', () => {
    const a = { 1: 2, 5: 1 };
    const b = { 5: 3, 9: 4 };
    expect(mergeBuckets(a, b)).toEqual({ 1: 2, 5: 4, 9: 4 });
    expect(a).toEqual({ 1: 2, 5: 1 });
    expect(b).toEqual({ 5: 3, 9: 4 });
  });

  it('gives the same percentiles as one histogram of all the durations', () => {
    const first = [3, 8, 15, 40, 41];
    const second = [200, 900, 12, 5_000];
    const merged = mergeBuckets(histogramOf(first), histogramOf(second));
    expect(merged).toEqual(histogramOf([...first, ...second]));
  });
});
