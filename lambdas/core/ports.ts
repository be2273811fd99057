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

export interface EventStore {
  /** Stores the event unless its id exists (conditional write); returns the existing record otherwise. */
  insertIfAbsent(event: StoredEvent): Promise<InsertOutcome>;
  /** Hands a failed event to another message (a provider retry), only if it is still failed and owned by `from`. */
  transferOwnership(id: string, fromMessageId: string, toMessageId: string): Promise<boolean>;
  /** Counts one more processing attempt and returns the new count. */
  recordAttempt(id: string): Promise<number>;
  markProcessed(event: EventKey, processedAt: string): Promise<void>;
  markFailed(event: EventKey, error: string): Promise<void>;
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

export interface ConnectionStore {
  save(connection: ConnectionRecord): Promise<void>;
  addChannels(connectionId: string, patterns: readonly string[], expiresAt: number): Promise<void>;
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
