/**
 * The Ably API's requests and answers, without I/O of its own: which source a request means, the message list's
 * query (time bounds, direction, limit, cursor), the public shape of a logged message, the stats document, the
 * manual sync's body and the runs listing's query. Everything here reads client input, so every refusal is a
 * HookhubError naming the parameter and what it must be.
 */
import { BadRequestError, NotFoundError } from '../../core/errors';
import { eventReadPath } from '../../core/events/event-read-path';
import type { HookhubConfig } from '../../core/sources/source-definition';
import type { AblyArrival } from './ably-message';
import type { AblyDirection } from './ably-options';
import type { AblyChannelCount, AblyMessageLog, AblyMessagePage, AblyMessageQuery, LoggedAblyMessage, SyncRun, SyncStateStore } from './ably-ports';

export const DEFAULT_MESSAGE_LIMIT = 100;
export const MAX_MESSAGE_LIMIT = 1000;
export const DEFAULT_RUN_LIMIT = 20;
export const MAX_RUN_LIMIT = 100;
/** Ably's own limit on channel names is far larger; hookhub's options schema bounds them at 200 as well. */
export const MAX_CHANNEL_NAME_LENGTH = 200;
export const MAX_SYNC_CHANNELS = 100;
/** A real cursor is well under a kilobyte (see ably-message-log.ts); the bound keeps a forged one cheap to refuse. */
const MAX_CURSOR_PARAMETER_LENGTH = 2048;
/** 9999-12-31T23:59:59.999Z: the last instant an ISO 8601 time with a four-digit year can name. */
export const MAX_TIME_MS = 253_402_300_799_999;

/** Under Lambda's 6 MB response limit, with room for the envelope and the metadata of up to 1,000 messages. */
export const MESSAGE_LIST_BUDGET_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Which source

export function ablySourceIds(config: HookhubConfig): string[] {
  return config.sources.filter((source) => source.preset === 'ably').map((source) => source.id);
}

/**
 * The Ably source a request means: the one named, or the only one configured. Naming none while several exist is
 * the client's to resolve (400 listing them); with none configured the whole API has nothing to answer (404).
 */
export function resolveAblySource(config: HookhubConfig, requested: string | undefined): string {
  const ids = ablySourceIds(config);
  if (requested !== undefined) {
    if (requested === '') throw new BadRequestError('source: must not be empty; leave it out to use the only Ably source');
    if (ids.includes(requested)) return requested;
    if (config.sources.some((source) => source.id === requested)) {
      throw new NotFoundError(`source '${shown(requested)}' is not an Ably source (its preset is not "ably"); Ably sources: ${ids.join(', ') || 'none'}`);
    }
    throw new NotFoundError(`unknown source '${shown(requested)}'; Ably sources: ${ids.join(', ') || 'none'}`);
  }
  if (ids.length === 1) return ids[0]!;
  if (ids.length === 0) throw new NotFoundError('no Ably source is configured: add a source with "preset": "ably" to hookhub.config.json');
  throw new BadRequestError(`source: several Ably sources are configured (${ids.join(', ')}); name one with source=`);
}

// ---------------------------------------------------------------------------------------------------------------
// Query parameters

type QueryParameters = Record<string, string | undefined>;

/** The message list's parameters; an unknown one is refused, so a misspelt filter cannot silently list everything. */
export function parseMessageQuery(parameters: QueryParameters, config: HookhubConfig): AblyMessageQuery {
  refuseUnknown(parameters, ['source', 'channel', 'direction', 'since', 'until', 'limit', 'cursor']);
  const source = resolveAblySource(config, parameters.source);
  const query: AblyMessageQuery = { source, limit: parseLimit(parameters.limit, DEFAULT_MESSAGE_LIMIT, MAX_MESSAGE_LIMIT) };
  if (parameters.channel !== undefined) query.channel = parseChannelName('channel', parameters.channel);
  if (parameters.direction !== undefined) query.direction = parseDirection(parameters.direction);
  if (parameters.since !== undefined) query.sinceMs = parseTime('since', parameters.since);
  if (parameters.until !== undefined) query.untilMs = parseTime('until', parameters.until);
  if (query.sinceMs !== undefined && query.untilMs !== undefined && query.sinceMs > query.untilMs) {
    throw new BadRequestError('since: must not be later than until');
  }
  if (parameters.cursor !== undefined) {
    // Only the length and presence here: the adapter owns the cursor's format and refuses a malformed one (400).
    if (parameters.cursor === '' || parameters.cursor.length > MAX_CURSOR_PARAMETER_LENGTH) {
      throw new BadRequestError('cursor is not valid; pass the cursor of a previous page unchanged');
    }
    query.cursor = parameters.cursor;
  }
  return query;
}

export function parseStatsQuery(parameters: QueryParameters, config: HookhubConfig): { source: string } {
  refuseUnknown(parameters, ['source']);
  return { source: resolveAblySource(config, parameters.source) };
}

/** Runs of every Ably source unless one is named: the runs listing is a sync log, not a per-source view. */
export function parseRunsQuery(parameters: QueryParameters, config: HookhubConfig): { source?: string; limit: number } {
  refuseUnknown(parameters, ['source', 'limit']);
  const limit = parseLimit(parameters.limit, DEFAULT_RUN_LIMIT, MAX_RUN_LIMIT);
  if (parameters.source === undefined) return { limit };
  return { source: resolveAblySource(config, parameters.source), limit };
}

function refuseUnknown(parameters: QueryParameters, allowed: readonly string[]): void {
  const unknown = Object.keys(parameters).find((name) => !allowed.includes(name));
  if (unknown !== undefined) throw new BadRequestError(`unknown query parameter '${shown(unknown)}'; expected ${allowed.join(', ')}`);
}

function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (!/^\d{1,7}$/.test(raw) || limit < 1 || limit > max) throw new BadRequestError(`limit: must be an integer from 1 to ${max}`);
  return limit;
}

function parseDirection(raw: string): AblyDirection {
  if (raw !== 'received' && raw !== 'sent') throw new BadRequestError('direction: must be received or sent');
  return raw;
}

function parseChannelName(name: string, raw: string): string {
  if (raw.length < 1 || raw.length > MAX_CHANNEL_NAME_LENGTH) throw new BadRequestError(`${name}: must be a channel name of 1 to ${MAX_CHANNEL_NAME_LENGTH} characters`);
  return raw;
}

// ---------------------------------------------------------------------------------------------------------------
// Times

/**
 * `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z` or an offset. A date-time without a zone
 * is refused: JavaScript would read it in the process's local zone, which is UTC on Lambda and anything locally.
 */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/** An ISO 8601 time or epoch milliseconds, as epoch milliseconds; 400 naming the parameter otherwise. */
export function parseTime(name: string, raw: string): number {
  const invalid = () =>
    new BadRequestError(`${name}: must be an ISO 8601 time with a zone (2026-11-23T10:00:00Z), a date (2026-11-23) or epoch milliseconds`);
  if (/^\d{1,16}$/.test(raw)) {
    const ms = Number(raw);
    if (ms > MAX_TIME_MS) throw invalid();
    return ms;
  }
  const match = ISO_TIME.exec(raw);
  if (!match) throw invalid();
  const [, year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = match;
  // Date.parse rolls 2026-02-30 over into March; each field is checked against its range instead.
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  const inRange =
    Number(month) >= 1 && Number(month) <= 12 &&
    Number(day) >= 1 && Number(day) <= daysInMonth &&
    (hour === undefined || Number(hour) <= 23) &&
    (minute === undefined || Number(minute) <= 59) &&
    (second === undefined || Number(second) <= 59) &&
    (offsetHours === undefined || Number(offsetHours) <= 23) &&
    (offsetMinutes === undefined || Number(offsetMinutes) <= 59);
  const ms = Date.parse(raw);
  if (!inRange || Number.isNaN(ms) || ms < 0 || ms > MAX_TIME_MS) throw invalid();
  return ms;
}

// ---------------------------------------------------------------------------------------------------------------
// The message list's answer

export interface PublicAblyMessage {
  messageId: string;
  eventId: string;
  source: string;
  channel: string;
  /** Absent fields are null rather than missing, so every message has the same keys. */
  name: string | null;
  clientId: string | null;
  connectionId: string | null;
  direction: AblyDirection;
  data: unknown;
  /** Ably's timestamp, epoch ms and ISO 8601. */
  timestamp: number;
  timestampIso: string;
  receivedAt: string;
  via: AblyArrival;
  /** Only when the payload could not be decoded: `data` is then as it arrived, in this encoding. */
  decodeError?: string;
  encoding?: string;
}

/** A message whose payload did not fit the response: the stored event serves it whole. */
export type ListedAblyMessage = PublicAblyMessage | (Omit<PublicAblyMessage, 'data'> & { dataOmitted: true; eventPath: string });

export function toPublicMessage(message: LoggedAblyMessage): PublicAblyMessage {
  return {
    messageId: message.messageId,
    eventId: message.eventId,
    source: message.source,
    channel: message.channel,
    name: message.name ?? null,
    clientId: message.clientId ?? null,
    connectionId: message.connectionId ?? null,
    direction: message.direction,
    data: message.data ?? null,
    timestamp: message.timestamp,
    timestampIso: new Date(message.timestamp).toISOString(),
    receivedAt: message.receivedAt,
    via: message.via,
    ...(message.decodeError !== undefined ? { decodeError: message.decodeError, ...(message.encoding !== undefined ? { encoding: message.encoding } : {}) } : {}),
  };
}

/**
 * `{messages, cursor}`. A page of 1,000 messages of up to 252 KiB each would pass Lambda's 6 MB response limit (a
 * 500 for as long as they are kept), so payloads are included newest first until the budget is spent and the rest
 * are listed with `dataOmitted` and the event's read path, as the events list does.
 */
export function messagePageResponse(page: AblyMessagePage, budgetBytes = MESSAGE_LIST_BUDGET_BYTES): { messages: ListedAblyMessage[]; cursor: string | null } {
  const messages = page.messages.map(toPublicMessage);
  const metadataBytes = messages.reduce((sum, { data: _data, ...metadata }) => sum + Buffer.byteLength(JSON.stringify(metadata), 'utf8'), 0);
  let dataBudget = budgetBytes - metadataBytes;
  const listed = messages.map((message): ListedAblyMessage => {
    const { data, ...withoutData } = message;
    const dataBytes = Buffer.byteLength(JSON.stringify(data), 'utf8');
    if (dataBytes <= dataBudget) {
      dataBudget -= dataBytes;
      return message;
    }
    dataBudget = -1; // newest first: once one payload is left out, every older one is too
    return { ...withoutData, dataOmitted: true, eventPath: eventReadPath(message.eventId) };
  });
  return { messages: listed, cursor: page.cursor ?? null };
}

// ---------------------------------------------------------------------------------------------------------------
// Stats

export interface AblyStatsDocument {
  source: string;
  totalMessages: number;
  lastMessageAt: string | null;
  byChannel: Record<string, number>;
  byDirection: { received: number; sent: number };
  lastSync: { runId: string; finishedAt: string; outcome: SyncRun['outcome']; stored: number; duplicates: number; errors: number } | null;
}

export function buildStatsDocument(source: string, counts: readonly AblyChannelCount[], lastRun: SyncRun | undefined): AblyStatsDocument {
  const sorted = [...counts].sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
  const lastTimestamp = counts.reduce<number | undefined>(
    (newest, count) => (count.lastTimestamp !== undefined && (newest === undefined || count.lastTimestamp > newest) ? count.lastTimestamp : newest),
    undefined,
  );
  return {
    source,
    totalMessages: counts.reduce((sum, count) => sum + count.messages, 0),
    lastMessageAt: lastTimestamp === undefined ? null : new Date(lastTimestamp).toISOString(),
    // Object.fromEntries defines own properties, so a channel named `__proto__` is listed like any other.
    byChannel: Object.fromEntries(sorted.map((count) => [count.channel, count.messages])),
    byDirection: {
      received: counts.reduce((sum, count) => sum + count.received, 0),
      sent: counts.reduce((sum, count) => sum + count.sent, 0),
    },
    lastSync: lastRun
      ? {
          runId: lastRun.runId,
          finishedAt: lastRun.finishedAt,
          outcome: lastRun.outcome,
          stored: lastRun.stored,
          duplicates: lastRun.duplicates,
          errors: lastRun.errors.length,
        }
      : null,
  };
}

/** The stats document of one source, from its counters and its newest sync run (two reads, in parallel). */
export async function readAblyStats(source: string, deps: { messageLog: AblyMessageLog; syncState: SyncStateStore }): Promise<AblyStatsDocument> {
  const [counts, runs] = await Promise.all([deps.messageLog.channelCounts(source), deps.syncState.listRuns({ source, limit: 1 })]);
  return buildStatsDocument(source, counts, runs[0]);
}

// ---------------------------------------------------------------------------------------------------------------
// POST /api/sync/ably

export interface SyncRequest {
  sourceId: string;
  channels?: string[];
  sinceMs?: number;
}

/** `{channels?, since?, source?}`; an empty body syncs the only Ably source's configured channels from their cursors. */
export function parseSyncRequest(body: unknown, config: HookhubConfig): SyncRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('the body must be a JSON object: {"channels"?: [names], "since"?: time, "source"?: id}');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => !['channels', 'since', 'source'].includes(name));
  if (unknown !== undefined) throw new BadRequestError(`unknown field '${shown(unknown)}'; expected channels, since, source`);

  if (fields.source !== undefined && typeof fields.source !== 'string') throw new BadRequestError('source: must be a source id (a string)');
  const request: SyncRequest = { sourceId: resolveAblySource(config, fields.source as string | undefined) };

  if (fields.channels !== undefined) {
    const channels = fields.channels;
    if (!Array.isArray(channels) || channels.length === 0 || channels.length > MAX_SYNC_CHANNELS) {
      throw new BadRequestError(`channels: must be an array of 1 to ${MAX_SYNC_CHANNELS} channel names; leave it out to sync the configured channels`);
    }
    channels.forEach((channel, index) => {
      if (typeof channel !== 'string') throw new BadRequestError(`channels[${index}]: must be a channel name (a string)`);
      parseChannelName(`channels[${index}]`, channel);
    });
    // One channel named twice would be read twice by one run, the second time against its own lease.
    request.channels = [...new Set(channels as string[])];
  }

  if (fields.since !== undefined) {
    const since = fields.since;
    if (typeof since === 'number') {
      if (!Number.isInteger(since) || since < 0 || since > MAX_TIME_MS) throw new BadRequestError('since: epoch milliseconds must be a whole number from 0');
      request.sinceMs = since;
    } else if (typeof since === 'string') {
      request.sinceMs = parseTime('since', since);
    } else {
      throw new BadRequestError('since: must be an ISO 8601 time or epoch milliseconds');
    }
  }
  return request;
}

/** Client text echoed in an error, cut so a long one cannot bloat the answer. */
function shown(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value;
}
