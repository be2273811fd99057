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
import type { InFlightTries } from './in-flight-tries';
import type { StatsBuffer } from './stats-buffer';
import { attemptDelivery, MAX_QUEUE_VISIBILITY_SECONDS, type AttemptDeps, type AttemptResult } from './attempt-delivery';
import { disableReason, FAILING_NOTICE_AFTER } from './circuit-breaker';
import { durationBucket } from './duration-histogram';
import { hourKey } from './endpoint-stats';

export interface DeliverDeps extends AttemptDeps {
  endpoints: Pick<EndpointDirectory, 'get' | 'fresh' | 'remember'>;
  endpointStore: Pick<EndpointStore, 'recordSuccess' | 'recordFailures' | 'disable'>;
  log: Pick<DeliveryLog, 'record'>;
  stats: Pick<StatsBuffer, 'add' | 'flushIfDue'>;
  rateLimiter: RateLimiter;
  queue: DeliveryQueue;
  ops: OpsNotifier;
  inFlight: InFlightTries;
  /** A try that took longer than this does not raise its endpoint's in-flight limit (in-flight-tries.ts). */
  slowTryMs: number;
}

/** `done`: the task is finished with (its message can be deleted). `wait`: hide it this long and see it again. */
export type TaskResult = { kind: 'done' } | { kind: 'wait'; seconds: number };

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
    return waitMs > 0 ? { kind: 'wait', seconds: Math.min(Math.ceil(waitMs / 1000), MAX_QUEUE_VISIBILITY_SECONDS) } : { kind: 'done' };
  });
  const byEndpoint = new Map<string, DeliveryTask[]>();
  tasks.forEach((task, index) => {
    if (results[index]!.kind !== 'done') return;
    byEndpoint.set(task.endpointId, [...(byEndpoint.get(task.endpointId) ?? []), task]);
  });

  const output: BatchOutput = { messages: [], deliveries: [], attempts: [], requeue: [], summary: { succeeded: 0, failed: 0, skipped: 0, deferred: 0, dropped: 0 } };
  await Promise.all([...byEndpoint].map(([endpointId, group]) => deliverToEndpoint(endpointId, group, deps, output)));
  // A first task held back (deferred) keeps its flag and records the message when it is tried.
  const requeued = new Set(output.requeue.map((entry) => entry.task));
  for (const tasksOfEndpoint of byEndpoint.values()) {
    for (const task of tasksOfEndpoint) if (task.recordMessage && !requeued.has(task)) output.messages.push(messageOf(task, deps));
  }
  // Follow-ups first: once they are queued, the records say what will happen; the reverse order could leave a
  // `pending` record whose next try was never queued. A failure throws, and the whole batch is tried again.
  await deps.queue.send(output.requeue);
  await deps.log.record({ deliveries: output.deliveries, attempts: output.attempts, messages: output.messages });
  await deps.stats.flushIfDue();
  return { results, summary: output.summary };
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
  const tries: Promise<AttemptResult>[] = [];
  tasks.forEach((task, index) => {
    const release = index < granted ? deps.inFlight.tryStart(endpoint.id) : undefined;
    if (!release) {
      output.requeue.push({ task, delaySeconds: deferralSeconds(endpoint, index - granted, deps.random) });
      output.summary.deferred++;
      return;
    }
    tries.push(
      attemptDelivery(task, endpoint, deps, task.trigger, grantedAt).then(
        (result) => {
          release(result.outcome === 'success' && result.attempt.durationMs < deps.slowTryMs);
          return result;
        },
        (error: unknown) => {
          release(false);
          throw error;
        },
      ),
    );
  });
  if (tries.length === 0) return;
  const outcomes = await Promise.all(tries);

  for (const result of outcomes) {
    output.attempts.push(result.attempt);
    output.deliveries.push(result.delivery);
    if (result.next) output.requeue.push(result.next);
    if (result.outcome === 'success') output.summary.succeeded++;
    else output.summary.failed++;
  }
  recordStats(endpoint, outcomes, deps);
  await recordHealth(endpoint, outcomes, deps);
}

/**
 * How long a held-back task waits: a rate-limited one spreads over the seconds the limit needs for the backlog in
 * hand; one held back by the in-flight cap waits longer if the endpoint is failing (its tries are slow to end).
 */
function deferralSeconds(endpoint: Endpoint, overLimitIndex: number, random: () => number): number {
  const jitter = Math.floor(random() * 2);
  if (overLimitIndex >= 0 && endpoint.rateLimitPerSecond) return 1 + Math.floor(overLimitIndex / endpoint.rateLimitPerSecond) + jitter;
  return (endpoint.consecutiveFailures > 0 ? 5 : 1) + jitter;
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
      await deps.ops.notify('endpoint.recovered', { endpointId: endpoint.id, url: endpoint.url, failuresBefore: before.previousConsecutiveFailures });
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
  await deps.ops.notify('endpoint.disabled', { endpointId: endpoint.id, url: endpoint.url, reason, ...details });
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
