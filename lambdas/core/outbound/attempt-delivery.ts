/**
 * One try of one message to one endpoint: sign, send, classify, and describe what to record and what comes next.
 * It writes nothing itself, so the worker can batch the records of a whole batch of tries into one write, and the
 * management API's `test` can run the same try synchronously.
 */
import type { Attempt, Delivery, DeliveryTask, Endpoint } from './outbound-model';
import type { WebhookSender } from './outbound-ports';
import { activeSecrets } from './endpoint-input';
import { buildDeliveryRequest, requestHeadersForLog } from './delivery-request';
import { classifyDelivery } from './delivery-outcome';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, nextRetryDelaySeconds } from './retry-schedule';
import { timeOrderedId } from './outbound-ids';

/** SQS's largest DelaySeconds (15 minutes) and visibility timeout (12 hours, counted from the receive). */
export const MAX_QUEUE_DELAY_SECONDS = 900;
export const MAX_QUEUE_VISIBILITY_SECONDS = 12 * 3600;

export interface AttemptDeps {
  sender: WebhookSender;
  now: () => Date;
  random: () => number;
  timeoutMs: number;
  retentionDays: number;
}

export interface AttemptResult {
  attempt: Attempt;
  delivery: Delivery;
  outcome: 'success' | 'retry' | 'exhausted' | 'disable';
  /** The next try, when the schedule has one. */
  next?: { task: DeliveryTask; delaySeconds: number };
}

/**
 * `grantedAt`: when the rate limiter let this try go; it is also the signing time, so `webhook-timestamp` names the
 * limiter's one-second window the try was counted in.
 */
export async function attemptDelivery(
  task: DeliveryTask,
  endpoint: Endpoint,
  deps: AttemptDeps,
  trigger: Attempt['trigger'] = task.trigger,
  grantedAt: Date = deps.now(),
): Promise<AttemptResult> {
  const started = grantedAt;
  const request = buildDeliveryRequest({
    url: endpoint.url,
    messageId: task.messageId,
    timestampSeconds: Math.floor(started.getTime() / 1000),
    payload: task.payload,
    secrets: activeSecrets(endpoint, started.getTime()),
    customHeaders: endpoint.headers,
    timeoutMs: deps.timeoutMs,
  });
  const result = await deps.sender.send(request);
  const finished = deps.now();
  const verdict = classifyDelivery(result, finished.getTime());
  const expiresAt = Math.floor(finished.getTime() / 1000) + deps.retentionDays * 86_400;

  // Manual tries (retry, replay, test) are one-offs, as Svix's resend: a failure leaves the delivery retryable.
  const delaySeconds =
    verdict.outcome === 'retry' && trigger === 'scheduled'
      ? nextRetryDelaySeconds({
          schedule: endpoint.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_SECONDS,
          attemptNumber: task.attemptNumber,
          retryAfterSeconds: verdict.retryAfterSeconds,
          random: deps.random,
        })
      : undefined;
  const outcome: AttemptResult['outcome'] =
    verdict.outcome === 'retry' ? (delaySeconds === undefined ? 'exhausted' : 'retry') : verdict.outcome;
  const nextAttemptAt = delaySeconds === undefined ? undefined : new Date(finished.getTime() + delaySeconds * 1000).toISOString();
  const error = verdict.outcome === 'success' ? undefined : verdict.reason;

  const attempt: Attempt = {
    id: timeOrderedId('atm', started.getTime()),
    endpointId: endpoint.id,
    messageId: task.messageId,
    eventType: task.eventType,
    attemptNumber: task.attemptNumber,
    status: verdict.outcome === 'success' ? 'succeeded' : 'failed',
    trigger,
    url: endpoint.url,
    requestHeaders: requestHeadersForLog(request.headers, Object.keys(endpoint.headers)),
    ...(result.kind === 'response' ? { responseStatus: result.status, responseHeaders: result.headers, responseBody: result.body } : {}),
    durationMs: Math.round(result.durationMs),
    ...(error !== undefined ? { error } : {}),
    ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
    attemptedAt: started.toISOString(),
    expiresAt,
  };
  const delivery: Delivery = {
    endpointId: endpoint.id,
    messageId: task.messageId,
    eventType: task.eventType,
    status: { success: 'succeeded', retry: 'pending', exhausted: 'exhausted', disable: 'failed' }[outcome] as Delivery['status'],
    attempts: task.attemptNumber,
    lastAttemptAt: started.toISOString(),
    ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
    ...(error !== undefined ? { lastError: error } : {}),
    ...(result.kind === 'response' ? { lastResponseStatus: result.status } : {}),
    updatedAt: finished.toISOString(),
    expiresAt,
  };
  return {
    attempt,
    delivery,
    outcome,
    ...(delaySeconds !== undefined ? { next: nextTry(task, delaySeconds, finished.getTime()) } : {}),
  };
}

/**
 * The next try as a new queue message: SQS delays a message at most 15 minutes, so a longer wait carries
 * `notBefore` and the worker that receives it early hides it again with ChangeMessageVisibility (up to 12 h).
 */
export function nextTry(task: DeliveryTask, delaySeconds: number, nowMs: number): { task: DeliveryTask; delaySeconds: number } {
  const { notBefore: _, recordMessage: __, ...rest } = task;
  const next: DeliveryTask = { ...rest, attemptNumber: task.attemptNumber + 1 };
  if (delaySeconds <= MAX_QUEUE_DELAY_SECONDS) return { task: next, delaySeconds };
  return { task: { ...next, notBefore: new Date(nowMs + delaySeconds * 1000).toISOString() }, delaySeconds: MAX_QUEUE_DELAY_SECONDS };
}
