/**
 * What the Ably preset's processing step, message log and history sync need from the outside world, as small
 * interfaces: DynamoDB adapters (lambdas/adapters/dynamodb/ably-*.ts), the ably SDK (lambdas/adapters/ably/) and
 * the inbound pipeline's store-once path implement them; unit tests implement them in memory.
 */
import type { QueuedEvent } from '../../core/events/inbound-event';
import type { AblyDirection } from './ably-options';
import type { AblyMessageRecord } from './ably-message';

/** A stored message as the log API answers it. */
export interface LoggedAblyMessage extends AblyMessageRecord {
  /** hookhub's event id (`evt_...`): the same as the event in GET /api/events/{id}. */
  eventId: string;
  source: string;
}

export interface AblyMessageQuery {
  source: string;
  channel?: string;
  direction?: AblyDirection;
  /** Epoch ms bounds on the Ably timestamp, inclusive. */
  sinceMs?: number;
  untilMs?: number;
  limit: number;
  cursor?: string;
}

export interface AblyMessagePage {
  /** Newest first (by Ably timestamp, then message id). */
  messages: LoggedAblyMessage[];
  cursor?: string;
}

export interface AblyChannelCount {
  channel: string;
  messages: number;
  received: number;
  sent: number;
  /** The newest stored message's Ably timestamp on this channel (epoch ms). */
  lastTimestamp?: number;
}

export interface AblyMessageLog {
  /** Stores the message once (by event id); `exists` when it already was, and then counts nothing. */
  record(message: LoggedAblyMessage, expiresAt: number): Promise<'stored' | 'exists'>;
  list(query: AblyMessageQuery): Promise<AblyMessagePage>;
  /** Counts per channel of one source (kept as counters when a message is first stored). */
  channelCounts(source: string): Promise<AblyChannelCount[]>;
}

/** One run of the history sync, as GET /api/sync/runs lists it. */
export interface SyncRun {
  runId: string;
  source: string;
  trigger: 'schedule' | 'manual' | 'timer';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** `ok`: every channel read to its end; `partial`: stopped at the time limit or some channels failed; `failed`: none read. */
  outcome: 'ok' | 'partial' | 'failed';
  channels: SyncChannelResult[];
  pages: number;
  /** Messages read from history. */
  seen: number;
  /** Messages this run stored for the first time. */
  stored: number;
  /** Messages already stored (by a webhook or an earlier run). */
  duplicates: number;
  errors: string[];
}

export interface SyncChannelResult {
  channel: string;
  /** `done`: read to the end; `stopped`: the time limit came first (the next run resumes); `busy`: another run holds its lease; `failed`. */
  status: 'done' | 'stopped' | 'busy' | 'failed';
  pages: number;
  seen: number;
  stored: number;
  duplicates: number;
  /** Where the next run starts (epoch ms), after this run. */
  cursorMs?: number;
  error?: string;
}

/** Per channel: a cursor (the newest stored timestamp) and a lease, so two runs never work one channel at once. */
export interface SyncStateStore {
  /** Takes the channel's lease until `leaseUntilMs` if it is free or expired; answers the cursor it holds. */
  acquireLease(source: string, channel: string, owner: string, nowMs: number, leaseUntilMs: number): Promise<{ acquired: true; cursorMs?: number } | { acquired: false }>;
  /** Moves the cursor forward (never back), only while `owner` holds the lease; false if it lost it. */
  advanceCursor(source: string, channel: string, owner: string, cursorMs: number): Promise<boolean>;
  releaseLease(source: string, channel: string, owner: string): Promise<void>;
  /** The cursors of one source, for lag reporting. */
  cursors(source: string): Promise<{ channel: string; cursorMs: number }[]>;
  saveRun(run: SyncRun, expiresAt: number): Promise<void>;
  /** Newest first. */
  listRuns(query: { source?: string; limit: number }): Promise<SyncRun[]>;
}

/** A page of a channel's history, oldest first (direction forwards). */
export interface HistoryPage {
  items: HistoryMessage[];
  next(): Promise<HistoryPage | undefined>;
}

/** A message as the ably SDK returns it from history (data already decoded). */
export interface HistoryMessage {
  id: string;
  name?: string;
  data?: unknown;
  encoding?: string | null;
  clientId?: string;
  connectionId?: string;
  extras?: unknown;
  timestamp: number;
}

export interface AblyHistoryReader {
  /** `history({start, direction: 'forwards', limit})` on one channel. */
  history(channel: string, startMs: number, limit: number): Promise<HistoryPage>;
  /**
   * Channel names with this prefix (channel enumeration). Copes with 40011 (restarts the listing) and 42912 (one
   * enumeration at a time: waits and retries a few times, then throws); names may repeat across pages.
   */
  listChannels(prefix: string): Promise<string[]>;
}

/** The inbound pipeline's store-once path for one event: what happened to it. */
export type StoreOnce = (event: QueuedEvent) => Promise<'stored' | 'duplicate'>;
