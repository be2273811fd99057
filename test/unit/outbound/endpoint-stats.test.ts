import { bucketUpperBoundMs, durationBucket } from '../../../lambdas/core/outbound/duration-histogram';
import { hourKey, statsSinceHour, summarizeEndpointStats } from '../../../lambdas/core/outbound/endpoint-stats';
import type { Endpoint } from '../../../lambdas/core/outbound/outbound-model';
import type { EndpointHourStats } from '../../../lambdas/core/outbound/outbound-ports';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 2, 14, 47, 22);

const endpoint: Endpoint = {
  id: 'ep_01KBFHZ6Y0M5QK6WD3V3ZB4N1J',
  url: 'https://receiver.example/hooks',
  description: '',
  eventTypes: [],
  sources: [],
  headers: {},
  failureThreshold: 5,
  disabled: false,
  secrets: [{ secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', createdAt: '2026-11-01T00:00:00.000Z' }],
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
  consecutiveFailures: 0,
};

/** Counters for the hour `hoursAgo` before NOW's hour. */
function hour(hoursAgo: number, succeeded: number, failed: number, durationBuckets: Record<number, number> = {}): EndpointHourStats {
  return { hour: hourKey(NOW - hoursAgo * HOUR), succeeded, failed, durationBuckets };
}

describe('hourKey', () => {
  it('is the UTC hour as YYYY-MM-DDTHH', () => {
    expect(hourKey(NOW)).toBe('2026-12-02T14');
    expect(hourKey(Date.UTC(2027, 0, 1, 0, 0, 0) - 1)).toBe('2026-12-31T23');
    expect(hourKey(Date.UTC(2027, 0, 1, 0, 0, 0))).toBe('2027-01-01T00');
  });

  it('starts the 7-day window 167 hours before the current hour', () => {
    expect(statsSinceHour(NOW)).toBe('2026-11-25T15');
  });
});

describe('summarizeEndpointStats', () => {
  it('counts the current hour and the 23 before it as the last 24 h, and 168 hours as the last 7 d', () => {
    const hours = [hour(0, 10, 0), hour(23, 5, 5), hour(24, 100, 0), hour(167, 1, 1), hour(168, 1000, 1000)];
    const summary = summarizeEndpointStats(endpoint, hours, NOW);
    expect(summary.last24h).toEqual({ total: 20, succeeded: 15, failed: 5, successRate: 0.75 });
    expect(summary.last7d).toEqual({ total: 122, succeeded: 116, failed: 6, successRate: 116 / 122 });
  });

  it('adds up several entries of one hour and counts an hour ahead (a clock running ahead)', () => {
    const summary = summarizeEndpointStats(endpoint, [hour(1, 2, 0), hour(1, 3, 1), hour(-1, 1, 0)], NOW);
    expect(summary.last24h).toEqual({ total: 7, succeeded: 6, failed: 1, successRate: 6 / 7 });
  });

  it('has a null success rate and null durations with no deliveries', () => {
    const summary = summarizeEndpointStats(endpoint, [], NOW);
    expect(summary.last24h).toEqual({ total: 0, succeeded: 0, failed: 0, successRate: null });
    expect(summary.last7d.successRate).toBeNull();
    expect(summary.durationMs).toEqual({ p50: null, p95: null });
  });

  it('reads p50 and p95 over the week in whole ms, leaving out older hours', () => {
    const fast = durationBucket(80);
    const slow = durationBucket(3_000);
    const hours = [hour(2, 19, 0, { [fast]: 19 }), hour(100, 1, 0, { [slow]: 1 }), hour(200, 50, 0, { [durationBucket(30_000)]: 50 })];
    const summary = summarizeEndpointStats(endpoint, hours, NOW);
    expect(summary.durationMs).toEqual({ p50: Math.ceil(bucketUpperBoundMs(fast)), p95: Math.ceil(bucketUpperBoundMs(fast)) });
    const withSlowTail = summarizeEndpointStats(endpoint, [...hours, hour(3, 2, 0, { [slow]: 2 })], NOW);
    expect(withSlowTail.durationMs.p95).toBe(Math.ceil(bucketUpperBoundMs(slow)));
    expect(withSlowTail.durationMs.p95).toBeGreaterThanOrEqual(3_000);
  });

  it("shows the endpoint's failure run and state", () => {
    const failing: Endpoint = {
      ...endpoint,
      consecutiveFailures: 7,
      failingSince: '2026-12-01T10:00:00.000Z',
      lastSuccessAt: '2026-12-01T09:59:00.000Z',
      lastFailureAt: '2026-12-02T14:40:00.000Z',
      disabled: true,
      disabledReason: 'failures',
      disabledAt: '2026-12-02T14:40:00.000Z',
    };
    expect(summarizeEndpointStats(failing, [], NOW)).toMatchObject({
      consecutiveFailures: 7,
      failingSince: '2026-12-01T10:00:00.000Z',
      lastSuccessAt: '2026-12-01T09:59:00.000Z',
      lastFailureAt: '2026-12-02T14:40:00.000Z',
      disabled: true,
      disabledReason: 'failures',
    });
    expect(summarizeEndpointStats(endpoint, [], NOW)).toMatchObject({
      consecutiveFailures: 0,
      failingSince: null,
      lastSuccessAt: null,
      lastFailureAt: null,
      disabled: false,
      disabledReason: null,
    });
  });
});
