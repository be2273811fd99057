/**
 * AblyMessageLog over the AblyMessages table (one item per message, by event id) and the AblyState table's
 * per-channel counters (see table-definitions.ts for the keys and indexes).
 *
 * Listing is newest first by `timestampId` (zero-padded Ably timestamp, `#`, message id). A position in a listing is
 * an exclusive upper bound on that string: a whole `timestampId` (the last message listed) or a bare padded
 * timestamp (everything before that millisecond). Each query asks for `BETWEEN <since> AND <position>` and drops the
 * one item equal to the position, so the cursor is only ever a bound inside the request's own partition, never a
 * DynamoDB start key, and a forged one can at worst list a different slice of what the caller may already read.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { AblyChannelCount, AblyMessageLog, AblyMessagePage, AblyMessageQuery, LoggedAblyMessage } from '../../providers/ably/ably-ports';
import { ABLY_MESSAGES_TABLE } from './table-definitions';
import { cursorDocument, encodePageCursor, invalidCursor } from './page-cursor';

const DAY_MS = 86_400_000;
/** Epoch ms fit 15 digits until the year 33658; a fixed width makes string order the time order. */
const TIMESTAMP_DIGITS = 15;
/** How far back a listing over every channel walks when the request gives no `since`. */
const DEFAULT_LOOK_BACK_DAYS = 90;
/** Never walk day buckets further back than the longest retention (HOOKHUB_RETENTION_DAYS ≤ 3650) could keep. */
const MAX_WALK_DAYS = 3660;
/** Ably timestamps are Ably's clock: nothing is stamped much later than now, so the walk starts at most a day ahead. */
const FUTURE_SLACK_MS = DAY_MS;
/** Queries one request may make: a sparse direction filter or a long run of empty days answers with a cursor, not a timeout. */
const MAX_QUERIES_PER_REQUEST = 100;
/** Day buckets read in parallel at most (see list()). */
const MAX_DAYS_AT_ONCE = 16;
/** Index entries a filtered query reads at a time (Limit counts them before the filter). */
const FILTERED_READ_LIMIT = 200;
/**
 * The message id's share of a `timestampId`, in UTF-16 units. An index sort key holds at most 1,024 bytes: 300 units
 * are at most 900 bytes of UTF-8. Ably's ids are tens of characters; a longer one (a client-chosen id) is cut, which
 * changes nothing but the order of two messages of the same millisecond whose ids share those 300 characters.
 */
const MAX_ID_IN_SORT_KEY = 300;
/** A cursor carries one timestampId: at most ~1,900 characters even with every character escaped in JSON. */
const MAX_CURSOR_LENGTH = 4096;
const CURSOR_POSITION = new RegExp(`^\\d{${TIMESTAMP_DIGITS}}(#[\\s\\S]{0,${MAX_ID_IN_SORT_KEY}})?$`);
/** A surrogate without its pair: not encodable as UTF-8, so DynamoDB would refuse it as a key condition value. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const [BY_CHANNEL, BY_DAY] = ABLY_MESSAGES_TABLE.indexes;

export interface AblyMessageLogOptions {
  /** Days a listing over every channel walks back from `until` without a `since`. @default 90 */
  lookBackDays?: number;
  now?: () => Date;
}

export class DynamoDbAblyMessageLog implements AblyMessageLog {
  private readonly lookBackDays: number;
  private readonly now: () => Date;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { messages: string; state: string },
    options: AblyMessageLogOptions = {},
  ) {
    this.lookBackDays = options.lookBackDays ?? DEFAULT_LOOK_BACK_DAYS;
    this.now = options.now ?? (() => new Date());
  }

  async record(message: LoggedAblyMessage, expiresAt: number): Promise<'stored' | 'exists'> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tables.messages,
          Item: itemOf(message, expiresAt),
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'exists';
      throw error;
    }
    // Counted only by the write that created the item, so a redelivered event or a concurrent copy never counts
    // twice. The price is the gap between the two writes: if the process dies there, or the counter update fails
    // past the SDK's retries, the message stays stored and uncounted (a retry of the event finds it `exists`).
    // A transaction would close that gap at twice the write cost of every message; the counters are a summary,
    // the log itself is the record.
    await this.count(message);
    return 'stored';
  }

  /**
   * Adds the message to its channel's counters and keeps `lastTimestamp` the newest. DynamoDB has no max(), so the
   * first write sets it under the condition that it does not move back; messages mostly arrive newest last
   * (webhooks in order), so that one write is the usual cost. An older message (history backfill, a late retry)
   * fails the condition, which applies nothing at all, and is counted by a second write without the timestamp.
   * Two writes that each count exactly once beat one unconditional ADD plus a separate conditional SET, which would
   * pay two writes for every message.
   */
  private async count(message: LoggedAblyMessage): Promise<void> {
    const key = { pk: statsPartition(message.source), sk: message.channel };
    const names = { '#messages': 'messages', '#direction': message.direction };
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.state,
          Key: key,
          UpdateExpression: 'ADD #messages :one, #direction :one SET #last = :timestamp',
          ConditionExpression: 'attribute_not_exists(#last) OR #last <= :timestamp',
          ExpressionAttributeNames: { ...names, '#last': 'lastTimestamp' },
          ExpressionAttributeValues: { ':one': 1, ':timestamp': message.timestamp },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.state,
          Key: key,
          UpdateExpression: 'ADD #messages :one, #direction :one',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    }
  }

  /**
   * Newest first. One channel is one partition of `byChannel`; every channel is a walk over `byDay` buckets from
   * `until` back to `since`. A page ends at `limit` messages, at the end of the range, or after a bounded number of
   * queries; a page may then hold fewer messages than asked (a sparse filter, empty days) and the cursor goes on.
   */
  async list(query: AblyMessageQuery): Promise<AblyMessagePage> {
    const nowMs = this.now().getTime();
    const untilMs = Math.min(query.untilMs ?? nowMs, nowMs + FUTURE_SLACK_MS);
    const sinceMs = Math.max(0, query.sinceMs ?? untilMs - this.lookBackDays * DAY_MS);
    const low = padTimestamp(sinceMs);
    let position = padTimestamp(untilMs + 1);
    if (query.cursor !== undefined) {
      const before = decodeMessageCursor(query.cursor);
      if (before < position) position = before;
    }
    if (position <= low) return { messages: [] };

    const byChannel = query.channel !== undefined;
    const oldestDay = dayOf(Math.max(sinceMs, nowMs - MAX_WALK_DAYS * DAY_MS));
    let day = newestDayBelow(position);
    // Day buckets read at once: one while days hold messages (a dense log reads no more than it lists), doubling
    // after each empty day, so the empty tail of a 90-day walk costs a handful of round trips, not ninety.
    let daysAtOnce = 1;

    const messages: LoggedAblyMessage[] = [];
    let more = true;
    let queries = 0;
    walk: while (true) {
      if ((!byChannel && day < oldestDay) || position <= low) {
        more = false;
        break;
      }
      if (queries >= MAX_QUERIES_PER_REQUEST) break;
      const wanted = query.limit - messages.length;
      const partitions = byChannel
        ? [{ index: BY_CHANNEL, value: `${query.source}#${query.channel}`, day }]
        : daysBack(day, oldestDay, Math.min(daysAtOnce, MAX_QUERIES_PER_REQUEST - queries)).map((bucket) => ({ index: BY_DAY, value: `${query.source}#${bucket}`, day: bucket }));
      const bound = position;
      const pages = await Promise.all(partitions.map(({ index, value }) => this.readPartition(index, value, low, bound, query.direction, wanted)));
      queries += partitions.length;

      for (const [at, page] of pages.entries()) {
        const bucket = partitions[at]!.day;
        const items = (page.Items ?? []).filter((item) => item.timestampId !== bound);
        const room = query.limit - messages.length;
        messages.push(...items.slice(0, room).map(messageOf));
        if (messages.length === query.limit) {
          // Full: the next page starts after the last message listed. It is the last page when nothing can follow:
          // this query read no further and there is no older day to walk.
          position = String(items[room - 1]!.timestampId);
          more = items.length > room || page.LastEvaluatedKey !== undefined || (!byChannel && previousDay(bucket) >= oldestDay);
          break walk;
        }
        if (page.LastEvaluatedKey !== undefined) {
          // The query stopped early (its Limit or DynamoDB's 1 MB): go on in this partition after the last entry
          // read. Older days read alongside are read again later, from this new position.
          position = String(page.LastEvaluatedKey.timestampId);
          day = bucket;
          daysAtOnce = 1;
          continue walk;
        }
        if (byChannel) {
          more = false;
          break walk;
        }
        daysAtOnce = items.length === 0 ? Math.min(daysAtOnce * 2, MAX_DAYS_AT_ONCE) : 1;
        // This day is listed to its start: everything older than its first millisecond is next.
        const dayStart = padTimestamp(Date.parse(`${bucket}T00:00:00.000Z`));
        if (dayStart < position) position = dayStart;
        day = previousDay(bucket);
      }
    }
    return { messages, ...(more ? { cursor: encodePageCursor({ before: position }) } : {}) };
  }

  private readPartition(
    index: (typeof ABLY_MESSAGES_TABLE.indexes)[number],
    partitionValue: string,
    low: string,
    high: string,
    direction: AblyMessageQuery['direction'],
    wanted: number,
  ): Promise<QueryCommandOutput> {
    const filtered = direction !== undefined;
    return this.client.send(
      new QueryCommand({
        TableName: this.tables.messages,
        IndexName: index.indexName,
        KeyConditionExpression: '#partition = :partition AND #sort BETWEEN :low AND :high',
        ExpressionAttributeNames: { '#partition': index.partitionKey.name, '#sort': index.sortKey.name, ...(filtered ? { '#direction': 'direction' } : {}) },
        ExpressionAttributeValues: { ':partition': partitionValue, ':low': low, ':high': high, ...(filtered ? { ':direction': direction } : {}) },
        ...(filtered ? { FilterExpression: '#direction = :direction' } : {}),
        ScanIndexForward: false,
        // One more than wanted for the item equal to the position (dropped), one more to see whether the page is
        // the last. Limit counts entries before the filter, so a filtered query reads a few hundred at a time.
        Limit: filtered ? Math.max(wanted + 2, FILTERED_READ_LIMIT) : wanted + 2,
      }),
    );
  }

  async channelCounts(source: string): Promise<AblyChannelCount[]> {
    const counts: AblyChannelCount[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tables.state,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': statsPartition(source) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        counts.push({
          channel: String(item.sk),
          messages: Number(item.messages ?? 0),
          received: Number(item.received ?? 0),
          sent: Number(item.sent ?? 0),
          ...(typeof item.lastTimestamp === 'number' ? { lastTimestamp: item.lastTimestamp } : {}),
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return counts;
  }
}

export function padTimestamp(timestampMs: number): string {
  return String(Math.max(0, Math.trunc(timestampMs))).padStart(TIMESTAMP_DIGITS, '0');
}

export function timestampIdOf(timestampMs: number, messageId: string): string {
  let idPart = messageId.slice(0, MAX_ID_IN_SORT_KEY);
  if (/[\uD800-\uDBFF]$/.test(idPart)) idPart = idPart.slice(0, -1); // never cut a surrogate pair in two
  return `${padTimestamp(timestampMs)}#${idPart}`;
}

/** The UTC day of an Ably timestamp: the `byDay` bucket it is listed under. */
export function dayOf(timestampMs: number): string {
  return new Date(timestampMs).toISOString().slice(0, 10);
}

/** Up to `count` days from `day` backwards, none before `oldest`. */
function daysBack(day: string, oldest: string, count: number): string[] {
  const days = [day];
  while (days.length < count && previousDay(days[days.length - 1]!) >= oldest) days.push(previousDay(days[days.length - 1]!));
  return days;
}

function previousDay(day: string): string {
  return dayOf(Date.parse(`${day}T00:00:00.000Z`) - DAY_MS);
}

/** The day of the newest message below an exclusive position: its own millisecond for a message, the one before for a bare time. */
function newestDayBelow(position: string): string {
  const timestamp = Number(position.slice(0, TIMESTAMP_DIGITS));
  return dayOf(position.length > TIMESTAMP_DIGITS ? timestamp : Math.max(0, timestamp - 1));
}

function statsPartition(source: string): string {
  return `stats#${source}`;
}

/** The cursor's position; anything but exactly `{before}` of the shape this adapter writes is a 400. */
function decodeMessageCursor(encoded: string): string {
  const document = cursorDocument(encoded, MAX_CURSOR_LENGTH);
  const names = Object.keys(document);
  const before = document.before;
  if (names.length !== 1 || typeof before !== 'string' || !CURSOR_POSITION.test(before) || LONE_SURROGATE.test(before)) throw invalidCursor();
  return before;
}

/**
 * The stored item. `data` and `extras` are kept as JSON text: DynamoDB refuses documents nested deeper than 32
 * levels and some shapes (empty keys in older SDKs, numbers past 38 digits), and the log only ever hands them back
 * whole. Fields are picked one by one so that nothing else a record might carry becomes an attribute.
 */
function itemOf(message: LoggedAblyMessage, expiresAt: number): Record<string, unknown> {
  const item: Record<string, unknown> = {
    id: message.eventId,
    source: message.source,
    messageId: message.messageId,
    channel: message.channel,
    name: message.name,
    clientId: message.clientId,
    connectionId: message.connectionId,
    direction: message.direction,
    data: message.data === undefined ? undefined : JSON.stringify(message.data),
    encoding: message.encoding,
    decodeError: message.decodeError,
    extras: message.extras === undefined ? undefined : JSON.stringify(message.extras),
    timestamp: message.timestamp,
    receivedAt: message.receivedAt,
    via: message.via,
    [BY_CHANNEL.partitionKey.name]: `${message.source}#${message.channel}`,
    [BY_DAY.partitionKey.name]: `${message.source}#${dayOf(message.timestamp)}`,
    [BY_CHANNEL.sortKey.name]: timestampIdOf(message.timestamp, message.messageId),
    [ABLY_MESSAGES_TABLE.timeToLiveAttribute]: expiresAt,
  };
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== undefined));
}

function messageOf(item: Record<string, unknown>): LoggedAblyMessage {
  const optional = (name: string) => (typeof item[name] === 'string' ? { [name]: item[name] as string } : {});
  return {
    kind: 'message',
    eventId: String(item.id),
    source: String(item.source),
    messageId: String(item.messageId),
    channel: String(item.channel),
    ...optional('name'),
    ...optional('clientId'),
    ...optional('connectionId'),
    direction: item.direction === 'sent' ? 'sent' : 'received',
    data: typeof item.data === 'string' ? parseJson(item.data) : undefined,
    ...optional('encoding'),
    ...optional('decodeError'),
    ...(typeof item.extras === 'string' ? { extras: parseJson(item.extras) } : {}),
    timestamp: Number(item.timestamp),
    receivedAt: String(item.receivedAt),
    via: item.via === 'history' ? 'history' : 'webhook',
  };
}

/** Always JSON this adapter wrote; should an item have been edited by hand, its text is shown rather than a 500. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
