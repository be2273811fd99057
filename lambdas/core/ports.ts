/**
 * The side effects the domain needs, as small interfaces. Adapters implement them over AWS (lambdas/adapters);
 * unit tests implement them in memory.
 */
import type { EventStatus, QueuedEvent, StoredEvent } from './events/inbound-event';

export interface EventListQuery {
  source?: string;
  status?: EventStatus;
  limit: number;
  cursor?: string;
}

export interface EventPage {
  events: StoredEvent[];
  /** Opaque; absent on the last page. */
  cursor?: string;
}

/** What recording a failure needs: the id, receivedAt for the day-bucketed status index, and when it was first stored. */
export type EventKey = Pick<StoredEvent, 'id' | 'receivedAt' | 'storedAt'>;

/** Which delivery processes an event: the SQS message and which receive of it. */
export interface ProcessingClaim {
  /** SQS message id: the same across redeliveries of one message. */
  messageId: string;
  /** SQS ApproximateReceiveCount: tells a newer delivery of the same message from an older one (fencing). */
  receiveCount: number;
}

/**
 * `recorded`: this delivery now owns the event and must process and push it; `event` is the record as stored (the
 * first copy's content). Otherwise `existing` is the record that refused it (undefined if it vanished meanwhile).
 */
export type RecordOutcome = { recorded: true; event: StoredEvent } | { recorded: false; existing: StoredEvent | undefined };

export interface EventStore {
  /**
   * One conditional write that stores the event as processed by this delivery, or takes an existing record over,
   * when no one else may be processing it: no record yet, a failed record, a newer delivery of the owning message,
   * or a record of the previous shape left in `received` whose lease ran out. Counts the attempt. See
   * docs/decisions.md, "One write per event".
   */
  recordProcessed(event: StoredEvent, claim: ProcessingClaim, nowMs: number): Promise<RecordOutcome>;
  /** Fenced on the claim: returns false (and changes nothing) if another delivery took the event over. */
  markFailed(event: EventKey, claim: ProcessingClaim, error: string): Promise<boolean>;
  /** Fenced on the claim: sets a record this delivery marked failed back to processed (see process-inbound.ts). */
  markProcessed(event: EventKey, claim: ProcessingClaim, processedAt: string): Promise<boolean>;
  recordDuplicate(id: string): Promise<void>;
  get(id: string): Promise<StoredEvent | undefined>;
  list(query: EventListQuery): Promise<EventPage>;
}

export interface InboundQueue {
  /** Resolves only once every event is durably queued; rejects if any was not. */
  enqueue(events: readonly QueuedEvent[]): Promise<void>;
}

export interface ConnectionRecord {
  connectionId: string;
  channels: string[];
  connectedAt: string;
  expiresAt: number;
}

/** What a subscribe did: every pattern is now subscribed, or nothing changed because the cap would be passed. */
export type AddChannelsOutcome =
  | { added: true; subscribed: number }
  | { added: false; subscribed: number; wouldAdd: number };

export interface ConnectionStore {
  save(connection: ConnectionRecord): Promise<void>;
  /**
   * Subscribes the connection to the patterns it does not have yet, as one atomic step against concurrent
   * subscribes on the same connection, unless it would then have more than `maxChannels`: then nothing changes.
   * Patterns it already has do not count again.
   */
  addChannels(connectionId: string, patterns: readonly string[], options: { expiresAt: number; maxChannels: number }): Promise<AddChannelsOutcome>;
  removeChannels(connectionId: string, patterns: readonly string[]): Promise<void>;
  remove(connectionId: string): Promise<void>;
  /** Connection ids subscribed to any of the patterns. */
  findSubscribers(patterns: readonly string[]): Promise<string[]>;
}

export type PushResult = 'sent' | 'gone';

export interface ConnectionMessenger {
  /** `gone` means the connection no longer exists (HTTP 410 from the management API). */
  push(connectionId: string, data: string): Promise<PushResult>;
}

export interface SecretProvider {
  /** Every active secret for a source (more than one while rotating). */
  secretsFor(reference: { env?: string; secretName?: string }): Promise<string[]>;
}

/** A provider-specific step run by the worker before fan-out (e.g. fetch the changed ServiceM8 object). */
export type EventProcessor = (event: StoredEvent) => Promise<void>;
