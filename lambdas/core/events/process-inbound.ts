/**
 * Worker use case: store a queued event exactly once, run its processing step, fan it out.
 *
 * SQS delivers at least once and providers retry, so the same event can arrive as several messages. The first
 * message to insert the record owns it; a redelivery of that same message (same SQS message id) resumes where a
 * crash or error left off (or is simply acknowledged if processing had finished); any other copy is acknowledged as a duplicate and never fanned out again, except that
 * a copy arriving after processing failed takes the event over, so a provider retry can rescue it.
 */
import type { EventProcessor, EventStore } from '../ports';
import type { QueuedEvent, StoredEvent } from './inbound-event';
import type { FanOutResult } from '../realtime/fan-out';

export interface DeliveryAttempt {
  /** SQS message id: stable across redeliveries of one message. */
  messageId: string;
}

export type ProcessOutcome =
  | { outcome: 'processed'; eventId: string; attempts: number; fanOut: FanOutResult }
  | { outcome: 'duplicate'; eventId: string }
  /** The owner's own message again after it was processed (e.g. a crash between processing and the SQS delete). */
  | { outcome: 'already-processed'; eventId: string };

export interface ProcessInboundDeps {
  store: EventStore;
  fanOut: (event: StoredEvent) => Promise<FanOutResult>;
  processors: Readonly<Record<string, EventProcessor>>;
  processorFor: (sourceId: string) => string | undefined;
  now: () => Date;
  retentionDays: number;
}

export async function processInboundEvent(
  queued: QueuedEvent,
  attempt: DeliveryAttempt,
  deps: ProcessInboundDeps,
): Promise<ProcessOutcome> {
  const now = deps.now();
  const { version: _version, ...fields } = queued;
  const fresh: StoredEvent = {
    ...fields,
    status: 'received',
    attempts: 1,
    duplicates: 0,
    ownerMessageId: attempt.messageId,
    storedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400,
  };

  let event = fresh;
  const insert = await deps.store.insertIfAbsent(fresh);
  if (!insert.inserted) {
    const existing = insert.existing;
    if (existing.status === 'processed' && existing.ownerMessageId === attempt.messageId) {
      return { outcome: 'already-processed', eventId: existing.id };
    }
    const resumable =
      existing.status !== 'processed' &&
      (existing.ownerMessageId === attempt.messageId ||
        (existing.status === 'failed' &&
          (await deps.store.transferOwnership(existing.id, existing.ownerMessageId, attempt.messageId))));
    if (!resumable) {
      await deps.store.recordDuplicate(existing.id);
      return { outcome: 'duplicate', eventId: existing.id };
    }
    event = { ...existing, attempts: await deps.store.recordAttempt(existing.id) };
  }

  try {
    const processorName = deps.processorFor(event.source);
    if (processorName) {
      const processor = deps.processors[processorName];
      if (!processor) throw new Error(`no processor named '${processorName}' is registered`);
      await processor(event);
    }
    const fanOut = await deps.fanOut(event);
    await deps.store.markProcessed(event, deps.now().toISOString());
    return { outcome: 'processed', eventId: event.id, attempts: event.attempts, fanOut };
  } catch (error) {
    // The original error decides the retry; failing to record it must not replace it.
    await deps.store.markFailed(event, describeError(error)).catch(() => undefined);
    throw error;
  }
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return message.slice(0, 1000);
}
