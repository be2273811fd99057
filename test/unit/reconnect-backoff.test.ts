/** The realtime reconnect policy: doubling from 0.5 s, capped at 30 s, with jitter that never drops below half. */
import { RECONNECT_MAX_DELAY_MS, reconnectDelayMs } from '../../lib/local/reconnect-backoff';

it('doubles the ceiling from 0.5 s and caps it at 30 s', () => {
  const ceilings = Array.from({ length: 10 }, (_, attempt) => reconnectDelayMs(attempt, () => 1));
  expect(ceilings).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  expect(reconnectDelayMs(1_000, () => 1)).toBe(RECONNECT_MAX_DELAY_MS);
});

it('jitters between half the ceiling and the ceiling', () => {
  expect(reconnectDelayMs(0, () => 0)).toBe(250);
  expect(reconnectDelayMs(3, () => 0.5)).toBe(3_000);
  expect(reconnectDelayMs(20, () => 0)).toBe(15_000);
});
