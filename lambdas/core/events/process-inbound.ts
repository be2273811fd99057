/**
 * Worker use case: store a queued event exactly once, run its processing step, fan it out.
 *
 * SQS delivers at least once and providers retry, so one event can arrive as several messages. The first message
 * to insert the record claims it, with a lease as long as the queue's visibility timeout. Another delivery may take
 * the event over only atomically (a conditional write): a newer delivery of the owning message (after a crash or
 * timeout), any copy once processing failed (so a provider retry or a DLQ redrive can rescue it), or any copy once
 * the lease ran out (the owner died without recording anything). Every other copy is acknowledged as a duplicate
 * and never fanned out again. Status updates are fenced on the claim, so a superseded owner cannot overwrite them.
 */
import type { EventProcessor, EventStore, ProcessingClaim } from '../ports';
import type { QueuedEvent, StoredEvent } from './inbound-event';
import type { FanOutResult } from '../realtime/fan-out';

export interface DeliveryAttempt {
  /** SQS message id: stable across redeliveries of one message. */
  messageId: string;
  /** SQS ApproximateReceiveCount of this delivery. */
  receiveCount: number;
}

export type ProcessOutcome =
  | { outcome: 'processed'; eventId: string; attempts: number; fanOut: FanOutResult }
  | { outcome: 'duplicate'; eventId: string }
  /** The owner's own message again after it was processed (e.g. a crash between processing and the SQS delete). */
  | { outcome: 'already-processed'; eventId: string }
  /** Another delivery took the event over while this one ran; it records the result. */
  | { outcome: 'superseded'; eventId: string };

/** An older delivery of the same message still holds the event: retry this one later rather than drop it. */
export class EventBusyError extends Error {
  constructor(eventId: string) {
    super(`event ${eventId} is being processed by an earlier delivery of this message`);
    this.name = 'EventBusyError';
  }
}

export interface ProcessInboundDeps {
  store: EventStore;
  fanOut: (event: StoredEvent) => Promise<FanOutResult>;
  processors: Readonly<Record<string, EventProcessor>>;
  processorFor: (sourceId: string) => string | undefined;
  now: () => Date;
  retentionDays: number;
  /** How long a claim protects an event; the queue's visibility timeout. */
  leaseSeconds: number;
}

export async function processInboundEvent(
  queued: QueuedEvent,
  attempt: DeliveryAttempt,
  deps: ProcessInboundDeps,
): Promise<ProcessOutcome> {
  const now = deps.now();
  const claim: ProcessingClaim = { ...attempt, leaseUntil: now.getTime() + deps.leaseSeconds * 1000 };
  const fresh: StoredEvent = {
    ...queued,
    status: 'received',
    attempts: 1,
    duplicates: 0,
    ownerMessageId: claim.messageId,
    ownerReceiveCount: claim.receiveCount,
    leaseUntil: claim.leaseUntil,
    storedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400,
  };

  let event = fresh;
  const insert = await deps.store.insertIfAbsent(fresh);
  if (!insert.inserted) {
    const existing = insert.existing;
    const ownMessage = existing.ownerMessageId === attempt.messageId;
    const claimed = existing.status === 'processed' ? undefined : await deps.store.claim(existing, claim, now.getTime());
    if (!claimed) {
      if (ownMessage && existing.status === 'processed') return { outcome: 'already-processed', eventId: existing.id };
      if (ownMessage) throw new EventBusyError(existing.id);
      await deps.store.recordDuplicate(existing.id);
      return { outcome: 'duplicate', eventId: existing.id };
    }
    event = claimed;
  }

  try {
    const processorName = deps.processorFor(event.source);
    if (processorName) {
      const processor = deps.processors[processorName];
      if (!processor) throw new Error(`no processor named '${processorName}' is registered`);
      await processor(event);
    }
    const fanOut = await deps.fanOut(event);
    if (!(await deps.store.markProcessed(event, claim, deps.now().toISOString()))) return { outcome: 'superseded', eventId: event.id };
    return { outcome: 'processed', eventId: event.id, attempts: event.attempts, fanOut };
  } catch (error) {
    // The original error decides the retry; failing to record it must not replace it.
    await deps.store.markFailed(event, claim, describeError(error)).catch(() => undefined);
    throw error;
  }
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return message.slice(0, 1000);
}
