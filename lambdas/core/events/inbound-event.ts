/**
 * The shapes an inbound event takes on its way through the pipeline:
 * QueuedEvent (the SQS message the ingest Lambda writes) → StoredEvent (the DynamoDB record the worker keeps).
 */
export type EventStatus = 'received' | 'processed' | 'failed';
export const EVENT_STATUSES: readonly EventStatus[] = ['received', 'processed', 'failed'];

/** How the raw body is kept: parsed-as-JSON text, other UTF-8 text, or base64 of bytes that are not UTF-8. */
export type PayloadFormat = 'json' | 'text' | 'base64';

export interface QueuedEvent {
  /** Message format version, so a worker can refuse (or upgrade) messages written by another release. */
  version: 1;
  id: string;
  source: string;
  providerEventId: string;
  type: string;
  channel: string;
  receivedAt: string;
  requestId: string;
  /** Request headers minus credentials and signatures: processing steps may need e.g. `x-github-event`. */
  headers: Record<string, string>;
  body: string;
  payloadFormat: PayloadFormat;
}

export interface StoredEvent extends Omit<QueuedEvent, 'version'> {
  status: EventStatus;
  /** Processing attempts (one per SQS receive that got past the duplicate check). */
  attempts: number;
  /** Copies of this event that arrived later and were acknowledged without being processed again. */
  duplicates: number;
  /** The SQS message currently allowed to process the event, which delivery of it, and until when. */
  ownerMessageId: string;
  ownerReceiveCount: number;
  leaseUntil: number;
  storedAt: string;
  processedAt?: string;
  lastError?: string;
  /** Epoch seconds after which DynamoDB TTL deletes the record. */
  expiresAt: number;
}

/** Returns the payload as the API and WebSocket clients see it: parsed JSON, text, or base64 text. */
export function decodePayload(event: Pick<QueuedEvent, 'body' | 'payloadFormat'>): unknown {
  if (event.payloadFormat === 'json') return JSON.parse(event.body) as unknown;
  return event.body;
}

/** The public view of a stored event (API responses); internal bookkeeping stays internal. */
export function toPublicEvent(event: StoredEvent) {
  return {
    id: event.id,
    source: event.source,
    providerEventId: event.providerEventId,
    type: event.type,
    channel: event.channel,
    status: event.status,
    attempts: event.attempts,
    duplicates: event.duplicates,
    receivedAt: event.receivedAt,
    storedAt: event.storedAt,
    processedAt: event.processedAt,
    lastError: event.lastError,
    headers: event.headers,
    payloadFormat: event.payloadFormat,
    payload: decodePayload(event),
  };
}
export type PublicEvent = ReturnType<typeof toPublicEvent>;
