/**
 * The Ably preset's processing step: after the worker has stored an event, a channel message also goes into the
 * message log (GET /api/ably/messages) and its channel's counters. The webhook path and the history sync both reach
 * here through the worker, so a message that came both ways is logged and counted once (the log's write is keyed by
 * the event id). Presence and lifecycle items stay events only.
 */
import type { EventProcessor } from '../../core/ports';
import type { AblyMessageRecord } from './ably-message';
import type { AblyMessageLog } from './ably-ports';

const DAY_SECONDS = 86_400;

export function createAblyProcessor(deps: { log: AblyMessageLog; retentionDays: number; now: () => Date }): EventProcessor {
  return async (event) => {
    const record = messageRecordOf(event.body);
    if (!record) return;
    // The log keeps a message as long as the events table keeps its event, counted from when it is logged.
    const expiresAt = Math.floor(deps.now().getTime() / 1000) + deps.retentionDays * DAY_SECONDS;
    await deps.log.record({ ...record, eventId: event.id, source: event.source }, expiresAt);
  };
}

/**
 * The body as a message record, or undefined for anything else: presence, lifecycle, or a body that is not JSON
 * (which the preset never writes, so there is nothing to log from it). A body that says it is a message but lacks
 * what the log is keyed and listed by is a bug upstream: it fails the event, visibly, instead of vanishing.
 */
function messageRecordOf(body: string): AblyMessageRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { kind?: unknown }).kind !== 'message') return undefined;
  const record = parsed as Partial<AblyMessageRecord>;
  const problems = [
    typeof record.messageId !== 'string' || record.messageId === '' ? 'messageId' : undefined,
    typeof record.channel !== 'string' || record.channel === '' ? 'channel' : undefined,
    record.direction !== 'received' && record.direction !== 'sent' ? 'direction' : undefined,
    typeof record.timestamp !== 'number' || !Number.isFinite(record.timestamp) || record.timestamp < 0 ? 'timestamp' : undefined,
    typeof record.receivedAt !== 'string' ? 'receivedAt' : undefined,
    record.via !== 'webhook' && record.via !== 'history' ? 'via' : undefined,
  ].filter((name) => name !== undefined);
  if (problems.length > 0) throw new Error(`the Ably message record lacks a valid ${problems.join(', ')}; it cannot be logged`);
  return record as AblyMessageRecord;
}
