/**
 * An event's DynamoDB item. Since the one-write design the item keeps as attributes only what DynamoDB itself must
 * see (key, index keys, the fields conditions and list filters read, TTL) and packs everything else an event
 * carries (headers, body, ids and labels) into one Brotli-compressed binary attribute, `content`: a 1 KiB JSON
 * webhook then fits in one 1 KB write unit instead of two (docs/decisions.md, "Events items under 1 KB").
 * Items of the previous shape (plain `body`, `headers` as pairs or a map) are still read.
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { EventStatus, PayloadFormat, StoredEvent } from '../../core/events/inbound-event';
import { emptyNameValueMap, nameValueMapOf, type NameValueMap } from '../../core/name-value-map';

/** Attributes that exist for DynamoDB (index keys, packed content), never part of the event itself. */
const STORAGE_ATTRIBUTES = ['day', 'sourceDay', 'statusDay', 'receivedAtId', 'content'] as const;

/** Brotli's best setting costs a few ms on a small event and saves the most; large bodies get a fast setting. */
const BEST_COMPRESSION_UP_TO_BYTES = 16 * 1024;

/** What `content` holds: the first line is this as JSON (no raw newline can occur in it), the rest is the body. */
interface PackedFields {
  providerEventId: string;
  type: string;
  channel: string;
  requestId: string;
  payloadFormat: PayloadFormat;
  headers: Array<[string, string]>;
}

export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function receivedAtId(event: Pick<StoredEvent, 'receivedAt' | 'id'>): string {
  return `${event.receivedAt}#${event.id}`;
}

/** The status index is sparse: only events that are not processed carry its key. */
export function statusDayOf(status: EventStatus, receivedAt: string): string | undefined {
  return status === 'processed' ? undefined : `${status}#${dayOf(new Date(receivedAt))}`;
}

export function packContent(event: StoredEvent): Uint8Array {
  const fields: PackedFields = {
    providerEventId: event.providerEventId,
    type: event.type,
    channel: event.channel,
    requestId: event.requestId,
    payloadFormat: event.payloadFormat,
    headers: Object.entries(event.headers),
  };
  const plain = Buffer.from(`${JSON.stringify(fields)}\n${event.body}`, 'utf8');
  const quality = plain.length <= BEST_COMPRESSION_UP_TO_BYTES ? constants.BROTLI_MAX_QUALITY : 4;
  return brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length } });
}

function unpackContent(content: Uint8Array): PackedFields & { body: string } {
  const text = brotliDecompressSync(content).toString('utf8');
  const newline = text.indexOf('\n');
  return { ...(JSON.parse(text.slice(0, newline)) as PackedFields), body: text.slice(newline + 1) };
}

/**
 * The attributes written for an event (all but the key and the bookkeeping the conditional write sets itself).
 * `duplicates` is left out while 0 and `storedAt` while it equals `processedAt`: the reader restores both.
 */
export function contentAttributes(event: StoredEvent): Record<string, unknown> {
  return {
    source: event.source,
    receivedAt: event.receivedAt,
    content: packContent(event),
    day: dayOf(new Date(event.receivedAt)),
    receivedAtId: receivedAtId(event),
    expiresAt: event.expiresAt,
  };
}

export function fromItem(item: Record<string, unknown>): StoredEvent {
  const event: Record<string, unknown> = { ...item };
  // An item of the previous shape that a newer delivery took over carries both; its own `body` is the first copy's.
  if (item.body === undefined && item.content instanceof Uint8Array) Object.assign(event, unpackContent(item.content));
  for (const key of STORAGE_ATTRIBUTES) delete event[key];
  event.headers = headersFromItem(event.headers);
  event.duplicates ??= 0;
  event.storedAt ??= item.processedAt ?? item.receivedAt;
  return event as unknown as StoredEvent;
}

/**
 * Headers are a list of [name, value] pairs, not a map: their names are the client's, and the document client's
 * marshalling refuses an object with a `constructor` key (and drops `__proto__`). Items written before that keep a
 * map; both are read.
 */
function headersFromItem(stored: unknown): NameValueMap {
  const isPair = (entry: unknown): entry is [string, string] =>
    Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'string';
  if (Array.isArray(stored)) return nameValueMapOf(stored.filter(isPair));
  if (typeof stored === 'object' && stored !== null) {
    return nameValueMapOf(Object.entries(stored).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }
  return emptyNameValueMap();
}
