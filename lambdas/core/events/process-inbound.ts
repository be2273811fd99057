/**
 * Worker use case: store a queued event exactly once, run its processing step, fan it out.
 *
 * SQS delivers at least once and providers retry, so one event can arrive as several messages. One conditional
 * write records the event as processed by this delivery, creating the record: only the delivery whose write
 * succeeds goes on to process and push it, so copies (concurrent or later) are acknowledged as duplicates and never
 * pushed again. The write also takes an event over when no one else may be working on it: a failed event (a
 * provider retry or a DLQ redrive rescues it), a newer delivery of the owning message (the earlier one crashed or
 * timed out after its write, so it may not have pushed), or a record of the previous shape stuck in `received`
 * whose lease ran out. A failure after the write records the event as failed, fenced on this delivery, and rethrows
 * so SQS retries it. The story and what it changed: docs/decisions.md, "One write per event".
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
  /** The owning delivery's message again, the same receive of it (SQS delivered one receive twice). */
  | { outcome: 'already-processed'; eventId: string };

/** An older delivery of the same message still holds the event: retry this one later rather than drop it. */
export class EventBusyError extends Error {
  constructor(eventId: string) {
    super(`event ${eventId} is being processed by an earlier delivery of this message`);
    this.name = 'EventBusyError';
  }
}

/** A source's own steps (its provider preset's, or a processor registered by name): see source-steps.ts. */
export interface SourceSteps {
  /** Reshapes the event before it is stored (e.g. decodes an Ably payload); never throws. */
  prepare?: (event: QueuedEvent) => Promise<QueuedEvent>;
  /** Runs after the event is stored and before it is pushed (e.g. fetch the changed object, log the message). */
  process?: EventProcessor;
}

export interface ProcessInboundDeps {
  store: EventStore;
  fanOut: (event: StoredEvent) => Promise<FanOutResult>;
  stepsFor: (sourceId: string) => SourceSteps;
  now: () => Date;
  retentionDays: number;
  /** Receives before SQS moves the message to the dead-letter queue (see finalDeliveryGuard below). */
  maxReceiveCount: number;
  /** Publishes the processed event as an outbound message (`{source}.{type}`) for the endpoints that want it. */
  publish: (event: StoredEvent) => Promise<unknown>;
}

/**
 * The record says `processed` before the processing step and the push run. A delivery that dies in between is
 * taken over by the next receive of its message, except after the last receive: the message goes to the DLQ, and a
 * redrive arrives under a new message id, which would take the record for a duplicate. So on the last receive the
 * record reads `failed` (any copy may take it over) until the work is done.
 */
const FINAL_DELIVERY_IN_PROGRESS = 'the last delivery before the dead-letter queue was still processing this event: if this stays, it did not finish; a redrive takes it over';

export async function processInboundEvent(
  queued: QueuedEvent,
  attempt: DeliveryAttempt,
  deps: ProcessInboundDeps,
): Promise<ProcessOutcome> {
  const steps = deps.stepsFor(queued.source);
  if (steps.prepare) queued = await steps.prepare(queued);
  const now = deps.now();
  const claim: ProcessingClaim = { messageId: attempt.messageId, receiveCount: attempt.receiveCount };
  const stored: StoredEvent = {
    ...queued,
    status: 'processed',
    attempts: 1,
    duplicates: 0,
    ownerMessageId: claim.messageId,
    ownerReceiveCount: claim.receiveCount,
    storedAt: now.toISOString(),
    processedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400,
  };

  const recorded = await deps.store.recordProcessed(stored, claim, now.getTime());
  if (!recorded.recorded) {
    const existing = recorded.existing;
    if (existing?.ownerMessageId === attempt.messageId) {
      // A newer delivery of this message owns the event (or, before this shape, a live lease): SQS must keep
      // this message until that delivery finishes, so retry later rather than acknowledge it.
      if (existing.ownerReceiveCount > attempt.receiveCount || existing.status !== 'processed') throw new EventBusyError(existing.id);
      return { outcome: 'already-processed', eventId: existing.id };
    }
    await deps.store.recordDuplicate(queued.id);
    return { outcome: 'duplicate', eventId: queued.id };
  }

  const event = recorded.event;
  const finalDelivery = attempt.receiveCount >= deps.maxReceiveCount;
  try {
    if (finalDelivery) await deps.store.markFailed(event, claim, FINAL_DELIVERY_IN_PROGRESS);
    if (steps.process) await steps.process(event);
    const fanOut = await deps.fanOut(event);
    await deps.publish(event);
    // Takes the failed mark back, unless another copy took the event over meanwhile (then that copy records it).
    if (finalDelivery) await deps.store.markProcessed(event, claim, deps.now().toISOString());
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
