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

/** What a status update needs: the id, and receivedAt for the day-bucketed status index. */
export type EventKey = Pick<StoredEvent, 'id' | 'receivedAt'>;

export type InsertOutcome = { inserted: true } | { inserted: false; existing: StoredEvent };

/** Which delivery is processing an event, and until when others must leave it alone. */
export interface ProcessingClaim {
  /** SQS message id: the same across redeliveries of one message. */
  messageId: string;
  /** SQS ApproximateReceiveCount: tells a newer delivery of the same message from an older one (fencing). */
  receiveCount: number;
  /** Epoch ms after which the claim is presumed dead (the owner crashed or timed out). */
  leaseUntil: number;
}

export interface EventStore {
  /** Stores the event unless its id exists (conditional write); returns the existing record otherwise. */
  insertIfAbsent(event: StoredEvent): Promise<InsertOutcome>;
  /**
   * Atomically takes an unprocessed event for this delivery when no one else may be processing it: a newer
   * delivery of the owning message, a failed event, or an event whose lease ran out. Counts the attempt and
   * returns the event, or undefined when the claim is refused.
   */
  claim(event: EventKey, claim: ProcessingClaim, nowMs: number): Promise<StoredEvent | undefined>;
  /** Both are fenced on the claim: they return false (and change nothing) if another delivery took over. */
  markProcessed(event: EventKey, claim: ProcessingClaim, processedAt: string): Promise<boolean>;
  markFailed(event: EventKey, claim: ProcessingClaim, error: string): Promise<boolean>;
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
