/**
 * Manual sends: retry one attempt's message, retry every failed delivery of an endpoint, replay everything an
 * endpoint did not get since a time (the "missed while disabled" case). Each queues one-off tries (no schedule
 * after them, as Svix's resend) and marks the deliveries pending, and is audited. Bulk sends are bounded per call;
 * the answer says when more are left.
 */
import { BadRequestError, ConflictError, NotFoundError } from '../errors';
import type { Delivery, DeliveryTask, OutboundMessage } from './outbound-model';
import { firstTry } from './publish-message';
import { getEndpoint, requireEnabled } from './endpoint-operations';
import { audit, type Actor, type ManagementDeps } from './management-deps';

/** Most deliveries one retry-failed or replay call queues; call again for the rest. */
export const MAX_BULK_SENDS = 5_000;
const PAGE = 500;

export async function retryAttempt(attemptId: string, actor: Actor, deps: ManagementDeps) {
  const attempt = await deps.log.getAttempt(attemptId);
  if (!attempt) throw new NotFoundError(`no attempt with id '${attemptId}'`);
  const endpoint = await getEndpoint(attempt.endpointId, deps);
  requireEnabled(endpoint);
  const message = await deps.messages.get(attempt.messageId);
  if (!message) throw new NotFoundError(`message '${attempt.messageId}' is no longer kept (past its retention)`);
  const delivery = await deps.log.getDelivery(endpoint.id, message.id);
  // A delivery still on its schedule gets its retries anyway; a manual try beside them would race them.
  if (delivery?.status === 'pending') {
    throw new ConflictError(`message '${message.id}' is still being delivered to this endpoint (next try ${delivery.nextAttemptAt ?? 'queued'}); retry once it has succeeded or is exhausted`);
  }
  await queueManual([{ message, delivery, endpointId: endpoint.id }], deps);
  await audit(deps, actor, 'attempt.retry', `attempt:${attemptId}`, { endpointId: endpoint.id, messageId: message.id });
  return { queued: 1, endpointId: endpoint.id, messageId: message.id };
}

export async function retryFailed(endpointId: string, actor: Actor, deps: ManagementDeps) {
  const endpoint = await getEndpoint(endpointId, deps);
  requireEnabled(endpoint);
  const found = await collect((cursor) => deps.log.listRetryable(endpointId, { limit: PAGE, cursor }), () => true);
  const { queued, missing } = await queueDeliveries(endpointId, found.deliveries, deps);
  await audit(deps, actor, 'endpoint.retry-failed', `endpoint:${endpointId}`, { queued, missing, truncated: found.truncated });
  return { queued, missing, truncated: found.truncated };
}

export async function replaySince(endpointId: string, body: unknown, actor: Actor, deps: ManagementDeps) {
  const { since, includeSucceeded } = parseReplayBody(body, deps.now().getTime(), deps.retentionDays);
  const endpoint = await getEndpoint(endpointId, deps);
  requireEnabled(endpoint);
  const wanted = (delivery: Delivery) => delivery.status !== 'pending' && (includeSucceeded || delivery.status !== 'succeeded');
  const found = await collect((cursor) => deps.log.listDeliveries(endpointId, { limit: PAGE, cursor, since }), wanted);
  const { queued, missing } = await queueDeliveries(endpointId, found.deliveries, deps);
  await audit(deps, actor, 'endpoint.replay', `endpoint:${endpointId}`, { since, includeSucceeded, queued, missing, truncated: found.truncated });
  return { queued, missing, since, truncated: found.truncated };
}

function parseReplayBody(body: unknown, nowMs: number, retentionDays: number): { since: string; includeSucceeded: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('body must be a JSON object {"since": "<ISO time>"}');
  const { since, includeSucceeded, ...unknown } = body as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new BadRequestError(`unknown field '${extra[0]}'; expected since and includeSucceeded`);
  if (typeof since !== 'string' || Number.isNaN(Date.parse(since))) throw new BadRequestError('since: must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z');
  const sinceMs = Date.parse(since);
  if (sinceMs > nowMs) throw new BadRequestError('since: must not be in the future');
  if (includeSucceeded !== undefined && typeof includeSucceeded !== 'boolean') throw new BadRequestError('includeSucceeded: must be a boolean');
  // Older than the retention there is nothing left to replay; say so instead of silently sending less.
  const oldest = nowMs - retentionDays * 86_400_000;
  if (sinceMs < oldest) throw new BadRequestError(`since: must be within the ${retentionDays}-day retention (after ${new Date(oldest).toISOString()})`);
  return { since: new Date(sinceMs).toISOString(), includeSucceeded: includeSucceeded ?? false };
}

async function collect(
  page: (cursor: string | undefined) => Promise<{ items: Delivery[]; cursor?: string }>,
  wanted: (delivery: Delivery) => boolean,
): Promise<{ deliveries: Delivery[]; truncated: boolean }> {
  const deliveries: Delivery[] = [];
  let cursor: string | undefined;
  do {
    const result = await page(cursor);
    for (const delivery of result.items) {
      if (!wanted(delivery)) continue;
      if (deliveries.length === MAX_BULK_SENDS) return { deliveries, truncated: true };
      deliveries.push(delivery);
    }
    cursor = result.cursor;
  } while (cursor);
  return { deliveries, truncated: false };
}

/**
 * Queues one try of each delivery whose message is still kept; `missing` counts those whose message is not (past
 * its retention, or never recorded because its first task was lost), so the answer says what could not be sent.
 */
async function queueDeliveries(endpointId: string, deliveries: readonly Delivery[], deps: ManagementDeps): Promise<{ queued: number; missing: number }> {
  let queued = 0;
  let missing = 0;
  for (let start = 0; start < deliveries.length; start += 100) {
    const chunk = deliveries.slice(start, start + 100);
    const messages = new Map((await deps.messages.getMany(chunk.map((delivery) => delivery.messageId))).map((message) => [message.id, message]));
    // A message past its retention cannot be sent again; its delivery stays as it is.
    const sendable = chunk.flatMap((delivery) => {
      const message = messages.get(delivery.messageId);
      return message ? [{ message, delivery, endpointId }] : [];
    });
    await queueManual(sendable, deps);
    queued += sendable.length;
    missing += chunk.length - sendable.length;
  }
  return { queued, missing };
}

async function queueManual(items: readonly { message: OutboundMessage; delivery: Delivery | undefined; endpointId: string }[], deps: ManagementDeps): Promise<void> {
  if (items.length === 0) return;
  const now = deps.now();
  const tasks: DeliveryTask[] = items.map(({ message, delivery, endpointId }) => firstTry(message, endpointId, 'manual', (delivery?.attempts ?? 0) + 1));
  const pending: Delivery[] = items.map(({ message, delivery, endpointId }) => {
    const { nextAttemptAt: _, ...previous } = delivery ?? { endpointId, messageId: message.id, eventType: message.eventType, attempts: 0 };
    return {
      ...previous,
      status: 'pending',
      updatedAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400,
    };
  });
  // Marked pending before the tries are queued: the other order could let a quick try's record be overwritten by
  // `pending`, which nothing would pick up again. If queueing fails, the previous states are put back.
  await deps.log.record({ deliveries: pending, attempts: [] });
  try {
    await deps.queue.send(tasks.map((task) => ({ task, delaySeconds: 0 })));
  } catch (error) {
    const previous = items.flatMap(({ delivery }) => (delivery ? [delivery] : []));
    await deps.log.record({ deliveries: previous, attempts: [] }).catch(() => undefined);
    throw error;
  }
}
