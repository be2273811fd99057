/**
 * Publishing a message (the seeds' `WebhookService.triggerEvent`): queue one delivery task per matching endpoint
 * (the first one carrying the message record to the worker), and only then answer. The answer therefore means every
 * delivery is durably queued: a crash afterwards loses nothing, and a receiver outage only delays its deliveries.
 *
 * Matching happens here, at publish time, against the endpoints that exist now (as Svix does): an endpoint created
 * later does not receive earlier messages unless it asks for a replay. A disabled endpoint still gets its task, so
 * the worker records the delivery as `skipped` and a replay can send it.
 *
 * An idempotency key makes a retried publish return the first message's id. The key is claimed before anything is
 * queued and completed after: a second request while the first is still queuing gets 409 (as Stripe answers), and
 * one after a crash mid-publish (the claim older than IDEMPOTENCY_TAKEOVER_MS) finishes the job under the same id.
 */
import { ConflictError, PayloadTooLargeError } from '../errors';
import type { DeliveryTask, OutboundMessage } from './outbound-model';
import type { DeliveryQueue, IdempotencyStore, MessageStore } from './outbound-ports';
import type { EndpointDirectory } from './endpoint-directory';
import { endpointMatches } from './event-type-pattern';
import { timeOrderedId } from './outbound-ids';
import type { SeenEventTypes } from './seen-event-types';

/** The largest payload, as JSON text. Svix answers 413 above 2 MB; ours must fit a queue message and a DynamoDB item. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** A claim older than this is taken to be from a publish that died before finishing. */
export const IDEMPOTENCY_TAKEOVER_MS = 30_000;

export interface PublishInput {
  eventType: string;
  /** The JSON text sent as each delivery's body. */
  payload: string;
  /** `app` (POST /api/messages), an inbound source's id, or `hookhub` (operational events). */
  source: string;
  /** A fixed id (the inbound worker derives it from the event id, so a retry publishes the same message). */
  id?: string;
  idempotencyKey?: string;
  /**
   * False: keep no message record when no endpoint matches. The inbound worker publishes every event this way: with
   * no subscriber there is no delivery to replay, and the event itself is stored already.
   * @default true
   */
  storeWhenUnmatched?: boolean;
}

export interface PublishDeps {
  endpoints: Pick<EndpointDirectory, 'all'>;
  messages: MessageStore;
  queue: DeliveryQueue;
  /** Only the management API takes idempotency keys; workers publish without. */
  idempotency?: IdempotencyStore;
  seenEventTypes: SeenEventTypes;
  now: () => Date;
  retentionDays: number;
}

export interface PublishResult {
  id: string;
  /** Delivery tasks queued by this call (0 when an idempotent repeat returned the first result). */
  queued: number;
  /** True when the idempotency key had already published this message. */
  repeated: boolean;
}

export async function publishMessage(input: PublishInput, deps: PublishDeps): Promise<PublishResult> {
  const payloadBytes = Buffer.byteLength(input.payload, 'utf8');
  if (payloadBytes > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(payloadBytes, MAX_PAYLOAD_BYTES);
  const now = deps.now();
  let id = input.id ?? timeOrderedId('msg', now.getTime());

  if (input.idempotencyKey !== undefined) {
    if (!deps.idempotency) throw new Error('idempotency keys need an idempotency store');
    const claim = await deps.idempotency.begin(input.idempotencyKey, id, now.toISOString(), Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS);
    if (!claim.started) {
      if (claim.state === 'done') return { id: claim.messageId, queued: 0, repeated: true };
      const stale = now.getTime() - Date.parse(claim.startedAt) >= IDEMPOTENCY_TAKEOVER_MS;
      // Of concurrent retries after a crash, one takes the claim over; the others wait for it as for any first request.
      if (!stale || !(await deps.idempotency.takeOver(input.idempotencyKey, claim.startedAt, now.toISOString()))) {
        throw new ConflictError('a request with this idempotency key is still being processed; retry in a few seconds');
      }
      id = claim.messageId;
    }
  }

  const message: OutboundMessage = {
    id,
    eventType: input.eventType,
    source: input.source,
    payload: input.payload,
    createdAt: now.toISOString(),
    ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}),
    expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400,
  };
  const matching = (await deps.endpoints.all()).filter((endpoint) => endpointMatches(endpoint, message));
  if (matching.length > 0) {
    // The first task carries the message record to the worker, which writes it in its batched write: the task is
    // durable already, so a separate write here would only cost a call per publish (docs/decisions.md).
    await deps.queue.send(matching.map((endpoint, index) => ({ task: { ...firstTry(message, endpoint.id), ...(index === 0 ? { recordMessage: true } : {}) }, delaySeconds: 0 })));
  } else if (input.storeWhenUnmatched !== false) {
    await deps.messages.put(message);
  }
  // Completed as soon as the tasks are queued: a crash after this point must not let a retry queue them again.
  if (input.idempotencyKey !== undefined) await deps.idempotency?.complete(input.idempotencyKey);
  await deps.seenEventTypes.record(message.eventType, message.source);
  return { id, queued: matching.length, repeated: false };
}

export function firstTry(message: OutboundMessage, endpointId: string, trigger: DeliveryTask['trigger'] = 'scheduled', attemptNumber = 1): DeliveryTask {
  return {
    messageId: message.id,
    endpointId,
    eventType: message.eventType,
    source: message.source,
    payload: message.payload,
    attemptNumber,
    trigger,
    createdAt: message.createdAt,
  };
}
