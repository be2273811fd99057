/**
 * What one try's result means for the delivery, as Standard Webhooks and the established senders read it: only a
 * 2xx is a success; 410 Gone asks to stop, so the endpoint is disabled; everything else, a network error or an SSRF
 * refusal at send time included, is a failed try that the retry schedule handles.
 */
import type { SendResult } from './outbound-ports';
import { parseRetryAfter } from './retry-schedule';

export type DeliveryOutcome =
  | { outcome: 'success' }
  | { outcome: 'disable'; reason: string }
  | { outcome: 'retry'; reason: string; retryAfterSeconds?: number };

/**
 * Statuses whose Retry-After is honoured: throttling (429) and an overloaded or unreachable upstream (502, 504),
 * as the peers do, and 503, for which RFC 9110 defines Retry-After in the first place.
 */
const RETRY_AFTER_STATUSES = new Set([429, 502, 503, 504]);

export function classifyDelivery(result: SendResult, nowMs: number): DeliveryOutcome {
  if (result.kind === 'error') return { outcome: 'retry', reason: result.error };

  const { status } = result;
  if (status >= 200 && status <= 299) return { outcome: 'success' };
  if (status === 410) return { outcome: 'disable', reason: 'gone' };
  if (RETRY_AFTER_STATUSES.has(status)) {
    const retryAfterSeconds = parseRetryAfter(result.headers['retry-after'], nowMs);
    return retryAfterSeconds === undefined
      ? { outcome: 'retry', reason: `HTTP ${status}` }
      : { outcome: 'retry', reason: `HTTP ${status}`, retryAfterSeconds };
  }
  if (status >= 300 && status <= 399) {
    // Following a redirect would send the signed payload to a URL nobody registered (and past the SSRF check).
    return { outcome: 'retry', reason: `HTTP ${status}: a redirect, which is not followed; set the endpoint URL to its target` };
  }
  return { outcome: 'retry', reason: `HTTP ${status}` };
}
