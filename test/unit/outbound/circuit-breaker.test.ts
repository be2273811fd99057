import {
  disableReason,
  FAILING_DISABLE_AFTER_MS,
  FAILING_NOTICE_AFTER,
  reachesFailingNotice,
} from '../../../lambdas/core/outbound/circuit-breaker';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const healthy = { consecutiveFailures: 0, failureThreshold: 5, disabled: false };

describe('disableReason', () => {
  it('leaves a healthy endpoint enabled', () => {
    expect(disableReason(healthy, NOW)).toBeUndefined();
  });

  it('disables at the threshold of consecutive failures, not before', () => {
    const failingSince = new Date(NOW - 60_000).toISOString();
    expect(disableReason({ ...healthy, consecutiveFailures: 4, failingSince }, NOW)).toBeUndefined();
    expect(disableReason({ ...healthy, consecutiveFailures: 5, failingSince }, NOW)).toBe('failures');
    expect(disableReason({ ...healthy, consecutiveFailures: 9, failingSince }, NOW)).toBe('failures');
  });

  it('disables after five days of continuous failure below the threshold', () => {
    expect(FAILING_DISABLE_AFTER_MS).toBe(120 * 3600 * 1000);
    const endpoint = { ...healthy, consecutiveFailures: 2, failureThreshold: 1000 };
    const justUnder = new Date(NOW - FAILING_DISABLE_AFTER_MS + 1).toISOString();
    const exactly = new Date(NOW - FAILING_DISABLE_AFTER_MS).toISOString();
    expect(disableReason({ ...endpoint, failingSince: justUnder }, NOW)).toBeUndefined();
    expect(disableReason({ ...endpoint, failingSince: exactly }, NOW)).toBe('failing-5-days');
  });

  it('names the threshold when both rules hold', () => {
    const failingSince = new Date(NOW - 10 * FAILING_DISABLE_AFTER_MS).toISOString();
    expect(disableReason({ ...healthy, consecutiveFailures: 5, failingSince }, NOW)).toBe('failures');
  });

  it('does nothing for an endpoint that is already disabled', () => {
    const failingSince = new Date(NOW - 10 * FAILING_DISABLE_AFTER_MS).toISOString();
    expect(disableReason({ ...healthy, disabled: true, consecutiveFailures: 50, failingSince }, NOW)).toBeUndefined();
  });

  it('ignores an unreadable failingSince rather than disabling on it', () => {
    expect(disableReason({ ...healthy, consecutiveFailures: 1, failingSince: 'yesterday' }, NOW)).toBeUndefined();
  });
});

describe('reachesFailingNotice', () => {
  it('is true on the fourth failed try only', () => {
    expect(FAILING_NOTICE_AFTER).toBe(4);
    expect([1, 2, 3, 4, 5, 8].map(reachesFailingNotice)).toEqual([false, false, false, true, false, false]);
  });
});
