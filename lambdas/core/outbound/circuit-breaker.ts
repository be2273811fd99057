/**
 * When an endpoint that keeps failing is disabled, so one dead receiver stops taking worker time and queue space
 * from the others. Two rules: the operator's threshold of consecutive failed tries, and Svix's rule of five days
 * of continuous failure (which catches an endpoint that fails slowly, a try every few hours, below the threshold).
 * Disabling is never silent: the caller emits `endpoint.disabled`, and a replay sends what was skipped meanwhile.
 */
import type { Endpoint } from './outbound-model';

/** A message's failed try count at which `message.attempt.failing` is emitted (once: on reaching it, not after). */
export const FAILING_NOTICE_AFTER = 4;

/** Continuous failure for this long disables an endpoint whatever its threshold. */
export const FAILING_DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;

export type AutomaticDisableReason = 'failures' | 'failing-5-days';

/** True for exactly the failed try that should emit `message.attempt.failing`. */
export function reachesFailingNotice(failedTryCount: number): boolean {
  return failedTryCount === FAILING_NOTICE_AFTER;
}

/**
 * Why the endpoint should be disabled now, or undefined if it should not (or already is). The threshold is checked
 * first: it is the operator's own setting, so it is the reason they expect to see.
 */
export function disableReason(
  endpoint: Pick<Endpoint, 'consecutiveFailures' | 'failureThreshold' | 'failingSince' | 'disabled'>,
  nowMs: number,
): AutomaticDisableReason | undefined {
  if (endpoint.disabled) return undefined;
  if (endpoint.consecutiveFailures >= endpoint.failureThreshold) return 'failures';
  if (endpoint.failingSince === undefined) return undefined;
  const failingSinceMs = Date.parse(endpoint.failingSince);
  if (!Number.isNaN(failingSinceMs) && nowMs - failingSinceMs >= FAILING_DISABLE_AFTER_MS) return 'failing-5-days';
  return undefined;
}
