/**
 * The delivery worker's use case: try a batch of delivery tasks, grouped by endpoint, and record what happened.
 *
 * Per endpoint: a deleted endpoint's tasks are dropped; a disabled one's are recorded `skipped` (a replay sends
 * them); the rest pass the endpoint's rate limit (shared by every worker) and this process's cap on tries in flight
 * (so a slow endpoint holds few workers), are sent in parallel, and their outcomes move the endpoint's health: a
 * success resets the failure run, failures add to it, and the circuit breaker disables the endpoint after
 * `failureThreshold` consecutive failures or five days of failing. A task held back by the limits goes back on the
 * queue with a short delay; a failed try's next try goes on the queue with the schedule's delay. Nothing sleeps.
 *
 * Writes per batch: one batched write of every delivery and attempt record, and of the message records whose first
 * task this batch holds (no conditions needed, see docs/decisions.md); a health update per endpoint only when its
 * health changes or its last recorded success is older than SUCCESS_REFRESH_MS; hourly stats through StatsBuffer.
 */
import type { Attempt, Delivery, DeliveryTask, Endpoint, OutboundMessage } from './outbound-model';
import type { DeliveryLog, DeliveryQueue, EndpointStore, RateLimiter } from './outbound-ports';
import type { EndpointDirectory } from './endpoint-directory';
import type { OpsNotifier } from './ops-events';
import type { InFlightTries, Refusal } from './in-flight-tries';
import type { StatsBuffer } from './stats-buffer';
import { attemptDelivery, type AttemptDeps, type AttemptResult } from './attempt-delivery';
import { disableReason, FAILING_NOTICE_AFTER } from './circuit-breaker';
import { durationBucket } from './duration-histogram';
import { hourKey } from './endpoint-stats';
import { urlOrigin } from './url-origin';

export interface DeliverDeps extends AttemptDeps {
  endpoints: Pick<EndpointDirectory, 'get' | 'fresh' | 'remember'>;
  endpointStore: Pick<EndpointStore, 'recordSuccess' | 'recordFailures' | 'disable'>;
  log: Pick<DeliveryLog, 'record'>;
  stats: Pick<StatsBuffer, 'add' | 'flushIfDue'>;
  rateLimiter: RateLimiter;
  queue: DeliveryQueue;
  ops: OpsNotifier;
  inFlight: InFlightTries;
  /** Reports a failure that must not fail the batch: the tries are made, and repeating them would send them twice. */
  onError: (what: string, error: unknown) => void;
  /** A try that took longer than this does not raise its endpoint's in-flight limit (in-flight-tries.ts). */
  slowTryMs: number;
}

/**
 * `done`: the task is finished with (its message can be deleted). `wait`: it is not due for this many seconds (the
 * handler hides it for as much of that as SQS allows and sees it again).
 * `failed`: nothing was sent for it (its endpoint could not be read) or its next try could not be queued: SQS must
 * deliver it again.
 */
export type TaskResult = { kind: 'done' } | { kind: 'wait'; seconds: number } | { kind: 'failed' };

export interface BatchSummary {
  succeeded: number;
  failed: number;
  skipped: number;
  deferred: number;
  dropped: number;
}

/**
 * A healthy endpoint's `lastSuccessAt` is refreshed at most this often: a success on an endpoint with no failure run
 * changes nothing else, and writing it per batch would cost a call per endpoint per batch.
 */
export const SUCCESS_REFRESH_MS = 10_000;

interface BatchOutput {
  messages: OutboundMessage[];
  deliveries: Delivery[];
  attempts: Attempt[];
  requeue: { task: DeliveryTask; delaySeconds: number }[];
  summary: BatchSummary;
}

export async function deliverTasks(tasks: readonly DeliveryTask[], deps: DeliverDeps): Promise<{ results: TaskResult[]; summary: BatchSummary }> {
  const nowMs = deps.now().getTime();
  const results: TaskResult[] = tasks.map((task) => {
    const waitMs = task.notBefore ? Date.parse(task.notBefore) - nowMs : 0;
    return waitMs > 0 ? { kind: 'wait', seconds: Math.ceil(waitMs / 1000) } : { kind: 'done' };
  });
  const byEndpoint = new Map<string, DeliveryTask[]>();
  tasks.forEach((task, index) => {
    if (results[index]!.kind !== 'done') return;
    const group = byEndpoint.get(task.endpointId);
    if (group) group.push(task);
    else byEndpoint.set(task.endpointId, [task]);
  });

  const output: BatchOutput = { messages: [], deliveries: [], attempts: [], requeue: [], summary: { succeeded: 0, failed: 0, skipped: 0, deferred: 0, dropped: 0 } };
  const unsent = new Set<DeliveryTask>();
  await Promise.all(
    [...byEndpoint].map(([endpointId, group]) =>
      deliverToEndpoint(endpointId, group, deps, output).catch((error: unknown) => {
        // Only what comes before sending throws here (reading the endpoint, the rate limiter): the group's tasks
        // were not sent, so SQS may deliver them again without sending anything twice.
        deps.onError(`endpoint ${endpointId}: tasks not sent`, error);
        for (const task of group) unsent.add(task);
      }),
    ),
  );
  // A first task held back (deferred) keeps its flag and records the message when it is tried.
  const requeued = new Set(output.requeue.map((entry) => entry.task));
  for (const tasksOfEndpoint of byEndpoint.values()) {
    for (const task of tasksOfEndpoint) if (task.recordMessage && !requeued.has(task)) output.messages.push(messageOf(task, deps));
  }
  // Follow-ups first: once they are queued, the records say what will happen. If they cannot be queued, the tasks
  // that needed them are delivered again by SQS (a failed try is repeated; a try is never lost).
  try {
    await deps.queue.send(output.requeue);
  } catch (error) {
    deps.onError('follow-up tasks not queued; their tasks will be received again', error);
    for (const { task } of output.requeue) unsent.add(sourceOf(task, tasks));
  }
  // The tries are made: a failed write loses their records (an error in the log), but failing the batch would send
  // them all again.
  await deps.log.record({ deliveries: output.deliveries, attempts: output.attempts, messages: output.messages }).catch((error: unknown) => deps.onError('delivery records not written', error));
  await deps.stats.flushIfDue();
  return { results: results.map((result, index) => (unsent.has(tasks[index]!) ? { kind: 'failed' } : result)), summary: output.summary };
}

/** The received task a follow-up continues (a deferral is the task itself; a retry is a copy with the next number). */
function sourceOf(followUp: DeliveryTask, tasks: readonly DeliveryTask[]): DeliveryTask {
  return tasks.find((task) => task === followUp) ?? tasks.find((task) => task.messageId === followUp.messageId && task.endpointId === followUp.endpointId) ?? followUp;
}

/** The message record, rebuilt from its first task (which carries the whole message). */
function messageOf(task: DeliveryTask, deps: Pick<AttemptDeps, 'retentionDays'>): OutboundMessage {
  return {
    id: task.messageId,
    eventType: task.eventType,
    source: task.source,
    payload: task.payload,
    createdAt: task.createdAt,
    expiresAt: Math.floor(Date.parse(task.createdAt) / 1000) + deps.retentionDays * 86_400,
  };
}

async function deliverToEndpoint(endpointId: string, tasks: readonly DeliveryTask[], deps: DeliverDeps, output: BatchOutput): Promise<void> {
  let endpoint = await deps.endpoints.get(endpointId);
  // Skipping is decided on the stored state: the cached copy may predate a re-enable (and a replay right after it).
  if (endpoint?.disabled) endpoint = await deps.endpoints.fresh(endpointId);
  if (!endpoint) {
    output.summary.dropped += tasks.length; // deleted: its deliveries went with it
    return;
  }
  if (endpoint.disabled) {
    output.deliveries.push(...tasks.map((task) => skippedDelivery(task, endpoint, deps)));
    output.summary.skipped += tasks.length;
    return;
  }

  const grantedAt = deps.now();
  const granted = endpoint.rateLimitPerSecond
    ? await deps.rateLimiter.take(endpoint.id, tasks.length, endpoint.rateLimitPerSecond, grantedAt.getTime())
    : tasks.length;
  const tries = await Promise.all(
    tasks.map(async (task, index): Promise<AttemptResult | undefined> => {
      const slot = index < granted ? await deps.inFlight.acquire(endpoint.id, SLOT_WAIT_MS) : 'rate-limited';
      if (typeof slot !== 'function') {
        output.requeue.push({ task, delaySeconds: deferralSeconds(endpoint, slot, index - granted, deps) });
        output.summary.deferred++;
        return undefined;
      }
      try {
        const result = await attemptDelivery(task, endpoint, deps, task.trigger, grantedAt);
        slot(result.outcome === 'success' && result.attempt.durationMs < deps.slowTryMs);
        return result;
      } catch (error) {
        slot(false);
        throw error;
      }
    }),
  );
  const outcomes = tries.filter((result): result is AttemptResult => result !== undefined);
  if (outcomes.length === 0) return;

  for (const result of outcomes) {
    output.attempts.push(result.attempt);
    output.deliveries.push(result.delivery);
    if (result.next) output.requeue.push(result.next);
    if (result.outcome === 'success') output.summary.succeeded++;
    else output.summary.failed++;
  }
  recordStats(endpoint, outcomes, deps);
  await recordHealth(endpoint, outcomes, deps).catch((error: unknown) => deps.onError(`endpoint ${endpoint.id}: health not recorded`, error));
}

/** How long a try waits in the worker for a slot of an endpoint whose slots quick tries hold. */
const SLOT_WAIT_MS = 250;

/**
 * How long a held-back task waits in the queue: a rate-limited one spreads over the seconds the limit needs for the
 * backlog in hand; one whose endpoint has a slow try waits about as long as that try may still take (the timeout);
 * one whose endpoint's slots stayed taken waits a second.
 */
function deferralSeconds(endpoint: Endpoint, reason: Refusal | 'rate-limited', overLimitIndex: number, deps: Pick<DeliverDeps, 'random' | 'timeoutMs'>): number {
  const jitter = Math.floor(deps.random() * 2);
  if (reason === 'rate-limited') return 1 + Math.floor(overLimitIndex / endpoint.rateLimitPerSecond!) + jitter;
  if (reason === 'slow') return Math.ceil(deps.timeoutMs / 1000) + jitter;
  return 1 + jitter;
}

function skippedDelivery(task: DeliveryTask, endpoint: Endpoint, deps: Pick<AttemptDeps, 'now' | 'retentionDays'>): Delivery {
  const now = deps.now();
  return {
    endpointId: endpoint.id,
    messageId: task.messageId,
    eventType: task.eventType,
    status: 'skipped',
    attempts: task.attemptNumber - 1,
    lastError: `endpoint disabled (${endpoint.disabledReason ?? 'manual'}); replay sends it`,
    updatedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400,
  };
}

/** Moves the endpoint's failure run and trips the circuit breaker; says what changed on channel `ops`. */
async function recordHealth(endpoint: Endpoint, outcomes: readonly AttemptResult[], deps: DeliverDeps): Promise<void> {
  const at = deps.now().toISOString();
  const gone = outcomes.find((result) => result.outcome === 'disable');
  if (gone) {
    await disable(endpoint, 'gone', deps, { messageId: gone.attempt.messageId, responseStatus: gone.attempt.responseStatus });
    return;
  }
  for (const result of outcomes) {
    // A manual try (retry, replay) is a one-off: its failure ends no schedule, so it is no notice.
    if (result.attempt.trigger !== 'scheduled') continue;
    if (result.outcome === 'exhausted') {
      await deps.ops.notify('message.attempt.exhausted', attemptNotice(result));
    } else if (result.outcome === 'retry' && result.attempt.attemptNumber === FAILING_NOTICE_AFTER) {
      await deps.ops.notify('message.attempt.failing', attemptNotice(result));
    }
  }
  // One success proves the endpoint answers: a mixed batch resets the failure run.
  if (outcomes.some((result) => result.outcome === 'success')) {
    const lastSuccessMs = endpoint.lastSuccessAt ? Date.parse(endpoint.lastSuccessAt) : Number.NEGATIVE_INFINITY;
    if (endpoint.consecutiveFailures === 0 && deps.now().getTime() - lastSuccessMs < SUCCESS_REFRESH_MS) return;
    const before = await deps.endpointStore.recordSuccess(endpoint.id, at);
    deps.endpoints.remember({ ...endpoint, consecutiveFailures: 0, failingSince: undefined, lastSuccessAt: at });
    if (before && before.previousConsecutiveFailures >= FAILING_NOTICE_AFTER) {
      await deps.ops.notify('endpoint.recovered', { endpointId: endpoint.id, origin: urlOrigin(endpoint.url), failuresBefore: before.previousConsecutiveFailures });
    }
    return;
  }
  const after = await deps.endpointStore.recordFailures(endpoint.id, outcomes.length, at);
  if (!after) return;
  deps.endpoints.remember(after);
  const reason = disableReason(after, deps.now().getTime());
  if (reason) await disable(after, reason, deps, { consecutiveFailures: after.consecutiveFailures, failingSince: after.failingSince });
}

async function disable(endpoint: Endpoint, reason: string, deps: DeliverDeps, details: Record<string, unknown>): Promise<void> {
  const at = deps.now().toISOString();
  if (!(await deps.endpointStore.disable(endpoint.id, reason, at))) return; // someone else disabled it and said so
  deps.endpoints.remember({ ...endpoint, disabled: true, disabledReason: reason, disabledAt: at });
  await deps.ops.notify('endpoint.disabled', { endpointId: endpoint.id, origin: urlOrigin(endpoint.url), reason, ...details });
}

function attemptNotice(result: AttemptResult): Record<string, unknown> {
  const { attempt } = result;
  return {
    endpointId: attempt.endpointId,
    messageId: attempt.messageId,
    eventType: attempt.eventType,
    attemptNumber: attempt.attemptNumber,
    lastAttempt: { id: attempt.id, responseStatus: attempt.responseStatus ?? null, error: attempt.error ?? null, at: attempt.attemptedAt },
    nextAttemptAt: attempt.nextAttemptAt ?? null,
  };
}

function recordStats(endpoint: Endpoint, outcomes: readonly AttemptResult[], deps: DeliverDeps): void {
  const now = deps.now();
  const durationBuckets: Record<number, number> = {};
  for (const { attempt } of outcomes) {
    const bucket = durationBucket(attempt.durationMs);
    durationBuckets[bucket] = (durationBuckets[bucket] ?? 0) + 1;
  }
  const succeeded = outcomes.filter((result) => result.outcome === 'success').length;
  deps.stats.add(
    endpoint.id,
    { hour: hourKey(now.getTime()), succeeded, failed: outcomes.length - succeeded, durationBuckets },
    Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400,
  );
}
