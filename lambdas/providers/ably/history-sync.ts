/**
 * The Ably history sync: reads each channel's history forwards from its cursor and stores every message through the
 * inbound pipeline's store-once path, so messages the webhook missed are caught up and those it delivered are
 * counted as duplicates. Pure: the reader, the cursor/lease store and the store-once path are ports.
 *
 * Why it is shaped like this:
 * - The cursor moves only after a whole page is stored, so a crash or a failed store re-reads that page next time
 *   (store-once turns the re-read into duplicates) instead of skipping messages.
 * - Each run re-reads `overlapSeconds` before the cursor: messages can reach history slightly out of order.
 * - A per-channel lease keeps a scheduled run and a manual one from reading the same channel at once; it lasts the
 *   run's remaining time budget plus a margin, so a crashed run's channels free themselves soon after its deadline.
 */
import { forEachBounded } from '../../core/bounded-concurrency';
import type { SourceDefinition } from '../../core/sources/source-definition';
import { ablyQueuedEvent, type AblyMessageRecord } from './ably-message';
import { directionOf, type AblyOptions } from './ably-options';
import type { AblyHistoryReader, HistoryMessage, HistoryPage, StoreOnce, SyncChannelResult, SyncRun, SyncStateStore } from './ably-ports';

export interface AblySyncRequest {
  /** A source with preset `ably` (its options parsed by the preset's schema). */
  source: SourceDefinition;
  trigger: SyncRun['trigger'];
  /** Read exactly these channels instead of the configured and discovered ones. */
  channels?: string[];
  /** Read from here (epoch ms) instead of the cursor; the cursor still only moves forward. */
  sinceMs?: number;
  /** Epoch ms: no page is started after it. */
  deadlineMs: number;
  /** Epoch seconds: the TTL of the run record. */
  runExpiresAt: number;
}

export interface AblySyncDeps {
  reader: AblyHistoryReader;
  state: SyncStateStore;
  storeOnce: StoreOnce;
  now: () => number;
  newRunId: () => string;
  /** Messages of one page stored at once. Default 16. */
  storeConcurrency?: number;
  /**
   * How long past the deadline a channel's lease lasts: time for the last page started before the deadline to be
   * stored. A run that dies leaves its channels locked this long after its deadline. Default 120 s.
   */
  leaseMs?: number;
}

/** Ably's largest history page. */
export const HISTORY_PAGE_LIMIT = 1000;
const DEFAULT_STORE_CONCURRENCY = 16;
const DEFAULT_LEASE_MARGIN_MS = 120_000;
/** Keeps the run record far below DynamoDB's item size even when every channel fails with a long message. */
const MAX_RUN_ERRORS = 50;
const MAX_ERROR_LENGTH = 500;

export async function runAblySync(request: AblySyncRequest, deps: AblySyncDeps): Promise<SyncRun> {
  const { source } = request;
  if (source.preset !== 'ably') throw new Error(`source '${source.id}' does not use the ably preset`);
  const options = source.options as AblyOptions;
  const runId = deps.newRunId();
  const startedAtMs = deps.now();
  const errors: string[] = [];

  const channels = request.channels !== undefined ? unique(request.channels) : await channelsToRead(options, deps.reader, errors);

  const results: SyncChannelResult[] = [];
  for (const channel of channels) {
    results.push(await syncChannel(channel, { request, deps, options, runId }));
  }
  for (const result of results) {
    if (result.error !== undefined) errors.push(`channel ${result.channel}: ${result.error}`);
  }

  const finishedAtMs = deps.now();
  const run: SyncRun = {
    runId,
    source: source.id,
    trigger: request.trigger,
    startedAt: new Date(startedAtMs).toISOString(),
    finishedAt: new Date(finishedAtMs).toISOString(),
    durationMs: finishedAtMs - startedAtMs,
    outcome: outcomeOf(results, errors),
    channels: results,
    pages: sum(results, 'pages'),
    seen: sum(results, 'seen'),
    stored: sum(results, 'stored'),
    duplicates: sum(results, 'duplicates'),
    errors: capErrors(errors),
  };
  await deps.state.saveRun(run, request.runExpiresAt);
  return run;
}

/**
 * The configured channels, then those enumeration finds under each prefix (filtered by `channelFilter`, as the
 * webhook rule would filter them). A failed enumeration is an error of the run; the other channels are still read.
 */
async function channelsToRead(options: AblyOptions, reader: AblyHistoryReader, errors: string[]): Promise<string[]> {
  const channels = [...options.history.channels];
  const filter = options.channelFilter !== undefined ? new RegExp(options.channelFilter) : undefined;
  for (const prefix of options.history.channelPrefixes) {
    try {
      const found = await reader.listChannels(prefix);
      channels.push(...found.filter((channel) => filter === undefined || filter.test(channel)));
    } catch (error) {
      errors.push(`listing channels with prefix '${prefix}': ${messageOf(error)}`);
    }
  }
  return unique(channels);
}

interface ChannelContext {
  request: AblySyncRequest;
  deps: AblySyncDeps;
  options: AblyOptions;
  runId: string;
}

async function syncChannel(channel: string, context: ChannelContext): Promise<SyncChannelResult> {
  const { request, deps, options, runId } = context;
  const sourceId = request.source.id;
  const result: SyncChannelResult = { channel, status: 'done', pages: 0, seen: 0, stored: 0, duplicates: 0 };
  if (deps.now() >= request.deadlineMs) return { ...result, status: 'stopped' };

  const nowMs = deps.now();
  const leaseUntilMs = Math.max(request.deadlineMs, nowMs) + (deps.leaseMs ?? DEFAULT_LEASE_MARGIN_MS);
  let lease: Awaited<ReturnType<SyncStateStore['acquireLease']>>;
  try {
    lease = await deps.state.acquireLease(sourceId, channel, runId, nowMs, leaseUntilMs);
  } catch (error) {
    return { ...result, status: 'failed', error: `could not take the channel's lease: ${messageOf(error)}` };
  }
  if (!lease.acquired) return { ...result, status: 'busy' };

  let cursorMs = lease.cursorMs;
  try {
    const startMs =
      request.sinceMs ?? (cursorMs !== undefined ? cursorMs - options.history.overlapSeconds * 1000 : nowMs - options.history.lookBackHours * 3_600_000);
    const direction = directionOf(channel, options.directions);
    let page: HistoryPage | undefined = await deps.reader.history(channel, startMs, HISTORY_PAGE_LIMIT);
    while (page !== undefined) {
      result.pages++;
      result.seen += page.items.length;
      const receivedAt = new Date(deps.now()).toISOString();
      const events = page.items.map((message) =>
        ablyQueuedEvent(sourceId, historyRecord(channel, message, direction, receivedAt), { requestId: runId, headers: {} }),
      );
      const storeFailure = await forEachBounded(events, deps.storeConcurrency ?? DEFAULT_STORE_CONCURRENCY, async (event) => {
        if ((await deps.storeOnce(event)) === 'stored') result.stored++;
        else result.duplicates++;
      }).then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      if (storeFailure !== undefined) {
        return { ...result, status: 'failed', cursorMs, error: `storing a message failed (the cursor stays before this page): ${messageOf(storeFailure.error)}` };
      }

      const newestMs = newestTimestamp(page.items);
      // Re-reads behind the cursor (overlap, sinceMs) need no write: the cursor never moves back.
      if (newestMs !== undefined && (cursorMs === undefined || newestMs > cursorMs)) {
        if (!(await deps.state.advanceCursor(sourceId, channel, runId, newestMs))) {
          return { ...result, status: 'failed', cursorMs, error: 'lost the channel lease to another run; stopped without moving the cursor' };
        }
        cursorMs = newestMs;
      }

      // Without a way to ask whether more pages follow short of fetching one, a run that reaches its deadline
      // counts the channel as stopped: the next run resumes from the cursor either way.
      if (deps.now() >= request.deadlineMs) return { ...result, status: 'stopped', cursorMs };
      page = await page.next();
    }
    return { ...result, status: 'done', cursorMs };
  } catch (error) {
    return { ...result, status: 'failed', cursorMs, error: messageOf(error) };
  } finally {
    // A lease that cannot be released expires on its own; that must not turn a read channel into a failure.
    await deps.state.releaseLease(sourceId, channel, runId).catch(() => undefined);
  }
}

/** The stored shape of a history message: the same as the webhook path's, so both arrivals make one event. */
function historyRecord(channel: string, message: HistoryMessage, direction: AblyMessageRecord['direction'], receivedAt: string): AblyMessageRecord {
  const { data, encoding } = jsonSafeData(message.data, message.encoding ?? undefined);
  const record: AblyMessageRecord = { kind: 'message', messageId: message.id, channel, direction, data, timestamp: message.timestamp, receivedAt, via: 'history' };
  if (message.name !== undefined && message.name !== null) record.name = message.name;
  if (message.clientId !== undefined && message.clientId !== null) record.clientId = message.clientId;
  if (message.connectionId !== undefined && message.connectionId !== null) record.connectionId = message.connectionId;
  if (encoding !== undefined && encoding !== '') record.encoding = encoding;
  if (message.extras !== undefined && message.extras !== null) record.extras = message.extras;
  return record;
}

/**
 * The SDK decodes `base64` payloads to bytes, which JSON cannot hold (a Buffer would become `{"type":"Buffer",...}`).
 * They are kept as Ably's own wire form instead: a base64 string with `base64` as the last step of `encoding`.
 */
function jsonSafeData(data: unknown, encoding: string | undefined): { data: unknown; encoding?: string } {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
  if (bytes === undefined) return { data, encoding };
  return { data: Buffer.from(bytes).toString('base64'), encoding: encoding ? `${encoding}/base64` : 'base64' };
}

function newestTimestamp(items: readonly HistoryMessage[]): number | undefined {
  let newest: number | undefined;
  for (const item of items) if (Number.isFinite(item.timestamp) && (newest === undefined || item.timestamp > newest)) newest = item.timestamp;
  return newest;
}

/** `ok`: every channel read to its end. `failed`: errors and no channel read. Else `partial`. */
function outcomeOf(results: readonly SyncChannelResult[], errors: readonly string[]): SyncRun['outcome'] {
  if (errors.length === 0 && results.every((result) => result.status === 'done')) return 'ok';
  const anyRead = results.some((result) => result.status === 'done' || (result.status === 'stopped' && result.pages > 0));
  return !anyRead && errors.length > 0 ? 'failed' : 'partial';
}

function capErrors(errors: readonly string[]): string[] {
  const kept = errors.slice(0, MAX_RUN_ERRORS);
  if (errors.length > MAX_RUN_ERRORS) kept.push(`... and ${errors.length - MAX_RUN_ERRORS} more errors (see the channels)`);
  return kept;
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}...` : message;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function sum(results: readonly SyncChannelResult[], field: 'pages' | 'seen' | 'stored' | 'duplicates'): number {
  return results.reduce((total, result) => total + result[field], 0);
}
