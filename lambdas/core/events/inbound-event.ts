/**
 * The shapes an inbound event takes on its way through the pipeline:
 * QueuedEvent (the SQS message the ingest Lambda writes) → StoredEvent (the DynamoDB record the worker keeps).
 */
import { exceedsNestingLimit } from './json-nesting';
import { withoutByteOrderMark } from './byte-order-mark';

export type EventStatus = 'received' | 'processed' | 'failed';
export const EVENT_STATUSES: readonly EventStatus[] = ['received', 'processed', 'failed'];

/** How the raw body is kept: parsed-as-JSON text, other UTF-8 text, or base64 of bytes that are not UTF-8. */
export type PayloadFormat = 'json' | 'text' | 'base64';

/** An accepted event on its way to the worker; queued-event-codec.ts gives its SQS message form (and version). */
export interface QueuedEvent {
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

export interface StoredEvent extends QueuedEvent {
  status: EventStatus;
  /** Processing attempts (one per SQS receive that got past the duplicate check). */
  attempts: number;
  /** Copies of this event that arrived later and were acknowledged without being processed again. */
  duplicates: number;
  /** The SQS message that processes (or last processed) the event, and which delivery of it. */
  ownerMessageId: string;
  ownerReceiveCount: number;
  /** Records of the previous shape only: until when a `received` record's owner held it (epoch ms). */
  leaseUntil?: number;
  storedAt: string;
  processedAt?: string;
  lastError?: string;
  /** Epoch seconds after which DynamoDB TTL deletes the record. */
  expiresAt: number;
}

/**
 * What decodePayload gives for a stored `json` body it cannot hand out as JSON: one that nests deeper than
 * MAX_JSON_NESTING_DEPTH (stored before ingest refused those; serializing it again would overflow the stack) or
 * one that does not parse. The stored text is kept whole under a single key that no provider payload is expected
 * to use, so readers and realtime clients still see the event and can tell this case apart.
 */
export interface UndecodablePayload {
  hookhubUndecodablePayload: { reason: 'nesting_too_deep' | 'malformed_json'; text: string };
}

/**
 * Returns the payload as the API and WebSocket clients see it: parsed JSON, text, or base64 text. Never throws,
 * and what it returns can always be serialized again: every reader of a stored event goes through here, so one
 * bad record must not make a listing or a worker fail for as long as it is retained.
 */
export function decodePayload(event: Pick<QueuedEvent, 'body' | 'payloadFormat'>): unknown {
  if (event.payloadFormat !== 'json') return event.body;
  if (typeof event.body !== 'string') return undecodable('malformed_json', '');
  if (exceedsNestingLimit(event.body)) return undecodable('nesting_too_deep', event.body);
  try {
    return JSON.parse(withoutByteOrderMark(event.body)) as unknown;
  } catch {
    return undecodable('malformed_json', event.body);
  }
}

function undecodable(reason: UndecodablePayload['hookhubUndecodablePayload']['reason'], text: string): UndecodablePayload {
  return { hookhubUndecodablePayload: { reason, text } };
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
