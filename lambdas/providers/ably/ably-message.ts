/**
 * An Ably message as hookhub keeps it, and the queued event that carries it. The webhook path (ably-ingest.ts) and
 * the history sync (history-sync.ts) both build messages through here, so a message that arrives both ways becomes
 * the same event id, the same realtime channel and the same stored shape.
 */
import { eventIdFor } from '../../core/events/event-id';
import type { QueuedEvent } from '../../core/events/inbound-event';
import { isValidChannelName } from '../../core/realtime/channels';
import type { AblyDirection } from './ably-options';

export type AblyArrival = 'webhook' | 'history';

/** A channel message (the message log keeps these). */
export interface AblyMessageRecord {
  kind: 'message';
  messageId: string;
  channel: string;
  /** The message name: the command (`ping`, `status-update`, `restart`, ...). */
  name?: string;
  clientId?: string;
  connectionId?: string;
  direction: AblyDirection;
  /**
   * The payload. In a queued webhook event it is still in wire form with `encoding` beside it; the worker decodes it
   * (the preset's `prepare`) before the event is stored, and drops `encoding`. History sync gets it decoded.
   */
  data: unknown;
  encoding?: string;
  /** Why the payload could not be decoded: `data` and `encoding` are then kept as they arrived. */
  decodeError?: string;
  extras?: unknown;
  /** Ably's timestamp (epoch ms). */
  timestamp: number;
  /** When hookhub received it (ISO 8601): the webhook request, or the sync run that read it. */
  receivedAt: string;
  via: AblyArrival;
}

/** Presence actions by their wire number (0 absent, 1 present, 2 enter, 3 leave, 4 update). */
export const PRESENCE_ACTIONS = ['absent', 'present', 'enter', 'leave', 'update'] as const;
export type PresenceAction = (typeof PRESENCE_ACTIONS)[number];

/** A presence item: stored as event type `presence.<action>` (unless the source ignores presence). */
export interface AblyPresenceRecord {
  kind: 'presence';
  /** The presence message id when Ably gives one, else a hash of the item. */
  messageId: string;
  channel: string;
  action: PresenceAction;
  clientId?: string;
  connectionId?: string;
  data: unknown;
  encoding?: string;
  decodeError?: string;
  timestamp: number;
  receivedAt: string;
  via: AblyArrival;
}

/** A channel lifecycle item (`channel.opened`, `channel.closed`) with the status Ably sent. */
export interface AblyLifecycleRecord {
  kind: 'lifecycle';
  /** A hash of the item: the same item retried is the same event. */
  messageId: string;
  channel: string;
  name: 'channel.opened' | 'channel.closed' | string;
  status?: unknown;
  timestamp: number;
  receivedAt: string;
  via: AblyArrival;
}

export type AblyRecord = AblyMessageRecord | AblyPresenceRecord | AblyLifecycleRecord;

/** The event type each record is stored under (and published as `{source}.{type}`). */
export function ablyEventType(record: AblyRecord): string {
  switch (record.kind) {
    case 'message':
      return 'channel.message';
    case 'presence':
      return `presence.${record.action}`;
    case 'lifecycle':
      return record.name;
  }
}

/**
 * The WebSocket channel a record is pushed on: `ably:{ably channel}`. Ably allows characters in channel names that
 * hookhub channel names do not (hookhub's are `:`-separated segments of letters, digits, `_`, `.`, `-`); each such
 * character becomes `_`, so `ably:*` still follows everything.
 */
export function ablyRealtimeChannel(ablyChannel: string): string {
  const direct = `ably:${ablyChannel}`;
  if (isValidChannelName(direct)) return direct;
  const segments = ablyChannel
    .slice(0, 190)
    .split(':')
    .map((segment) => segment.replace(/[^A-Za-z0-9_.-]/g, '_') || '_');
  return `ably:${segments.join(':')}`;
}

/** The queued event for one record: keyed by (source, Ably message id), so webhook retries and sync dedupe. */
export function ablyQueuedEvent(
  sourceId: string,
  record: AblyRecord,
  request: { requestId: string; headers: Record<string, string> },
): QueuedEvent {
  return {
    id: eventIdFor(sourceId, record.messageId),
    source: sourceId,
    providerEventId: record.messageId,
    type: ablyEventType(record),
    channel: ablyRealtimeChannel(record.channel),
    receivedAt: record.receivedAt,
    requestId: request.requestId,
    headers: request.headers,
    body: JSON.stringify(record),
    payloadFormat: 'json',
  };
}
