/**
 * The `ably` preset's ingest: verifies an Ably webhook request and turns it into one queued event per message,
 * presence message or lifecycle item. A batch request (up to 1,000 items) is taken item by item: an item that
 * cannot be read is refused on its own (`rejected`, by index) and the rest still queued, so one odd item never makes
 * Ably retry, and fail, the whole batch. Payloads are queued in wire form: decoding needs the ably SDK (~360 KB,
 * ~130 ms to load), which the worker's prepare step (ably-prepare.ts) loads and the ingest cold start does not.
 */
import {
  BadRequestError,
  ConfigurationError,
  HookhubError,
  MalformedPayloadError,
  MethodNotAllowedError,
  NestingTooDeepError,
  PayloadTooLargeError,
  SignatureVerificationError,
} from '../../core/errors';
import { boundedId, keptHeaders } from '../../core/events/accept-inbound';
import { withoutByteOrderMark } from '../../core/events/byte-order-mark';
import { contentHashId } from '../../core/events/event-id';
import type { QueuedEvent } from '../../core/events/inbound-event';
import { exceedsNestingLimit, MAX_JSON_NESTING_DEPTH } from '../../core/events/json-nesting';
import type { HeaderMap } from '../../core/verification/header-map';
import { verifySharedToken } from '../../core/verification/shared-token';
import type { IngestResult, PresetIngestInput } from '../provider-preset';
import {
  ablyQueuedEvent,
  PRESENCE_ACTIONS,
  type AblyMessageRecord,
  type AblyPresenceRecord,
  type AblyRecord,
  type PresenceAction,
} from './ably-message';
import { directionOf, type AblyOptions } from './ably-options';
import { ABLY_SIGNATURE_HEADER, verifyAblySignature } from './ably-signature';

/**
 * The whole request's limit. A full batch is far over the generic 240 KiB body limit (that one bounds a single
 * event); Lambda takes at most 6 MB synchronously, so 5 MiB leaves room for the event's envelope (Ably's JSON
 * arrives as text, not base64, which would grow it by a third).
 */
export const ABLY_MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/** Ably sends at most 1,000 items a batch request; more is not Ably. */
export const ABLY_MAX_BATCH_ITEMS = 1000;

export async function ingestAblyRequest(input: PresetIngestInput): Promise<IngestResult> {
  const { source, request } = input;
  if (request.method.toUpperCase() !== 'POST') throw new MethodNotAllowedError(request.method, ['POST']);
  if (request.rawBody.length > ABLY_MAX_REQUEST_BYTES) throw new PayloadTooLargeError(request.rawBody.length, ABLY_MAX_REQUEST_BYTES);
  const options = source.options as AblyOptions;
  await verifyAblyRequest(input, options);

  const body = parseJsonBody(request.rawBody);
  const headers = keptHeaders(source, request.headers);
  if (options.singleModeToken) delete headers[options.singleModeToken.header];
  delete headers[ABLY_SIGNATURE_HEADER];
  const context: ItemContext = {
    options,
    channelFilter: options.channelFilter === undefined ? undefined : new RegExp(options.channelFilter),
    receivedAt: request.receivedAt,
    maxBodyBytes: input.maxBodyBytes,
    toEvent: (record) => ablyQueuedEvent(source.id, record, { requestId: request.requestId, headers }),
  };

  if (isNotEnveloped(request.headers)) return takeSingle(() => notEnvelopedItem(body, request.headers), context);
  if (isObject(body) && Array.isArray(body.items)) return takeBatch(body.items, context);
  if (isObject(body) && typeof body.source === 'string' && typeof body.channel === 'string') {
    return takeSingle(() => envelopedItem(body), context);
  }
  throw new MalformedPayloadError(
    'not an Ably webhook: expected a batch ({"items": [...]}), an enveloped message ({"source", "channel", ...}) or x-ably-envelope-* headers',
  );
}

/** Ably signs batch requests only; a single-mode rule proves itself with the configured token header instead. */
async function verifyAblyRequest(input: PresetIngestInput, options: AblyOptions): Promise<void> {
  const { headers, rawBody } = input.request;
  if (headers[ABLY_SIGNATURE_HEADER] !== undefined) {
    if (!input.source.secret) throw new ConfigurationError(`source '${input.source.id}' has no "secret" (its Ably API keys)`);
    verifyAblySignature({ headers, rawBody, apiKeys: await input.secretsFor(input.source.secret) });
    return;
  }
  const token = options.singleModeToken;
  if (!token) {
    throw new SignatureVerificationError(
      `missing ${ABLY_SIGNATURE_HEADER} header: Ably signs only batch requests; to accept single-mode requests, ` +
        "set options.singleModeToken and send its header from the rule's target.headers",
      'missing_signature',
    );
  }
  const secrets = await input.secretsFor(token.secret);
  if (secrets.length === 0) throw new ConfigurationError(`source '${input.source.id}' has options.singleModeToken but its secret is empty`);
  verifySharedToken({ header: token.header, headers, secrets });
}

function parseJsonBody(rawBody: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch {
    throw new MalformedPayloadError('body is not valid UTF-8 JSON');
  }
  if (exceedsNestingLimit(text)) throw new NestingTooDeepError(MAX_JSON_NESTING_DEPTH);
  try {
    return JSON.parse(withoutByteOrderMark(text)) as unknown;
  } catch {
    // JSON.parse's message quotes part of the body, which must not reach logs or responses.
    throw new MalformedPayloadError('body is not valid JSON');
  }
}

// ---- The three request shapes, brought to one item form --------------------------------------------------------

/** An item whatever shape it came in; `at` names where its fields were, for error messages. */
interface AblyItem {
  raw: unknown;
  source: string;
  name: unknown;
  timestamp: unknown;
  channel: unknown;
  messages: unknown;
  presence: unknown;
  status: unknown;
  at: { channel: string; messages: string; presence: string };
}

/** Why an item (not the request) is refused: the message names the field, never its value. */
class ItemError extends Error {}

/** An item whose record is over the body limit; in single mode the request is answered 413. */
class ItemTooLargeError extends ItemError {}

function batchItem(raw: unknown): AblyItem {
  if (!isObject(raw)) throw new ItemError('item is not an object');
  if (typeof raw.source !== 'string') throw new ItemError('source must be a string');
  const data = raw.data;
  if (!isObject(data)) throw new ItemError('data must be an object');
  return {
    raw,
    source: raw.source,
    name: raw.name,
    timestamp: raw.timestamp,
    channel: data.channelId,
    messages: data.messages,
    presence: data.presence,
    status: data.status,
    at: { channel: 'data.channelId', messages: 'data.messages', presence: 'data.presence' },
  };
}

function envelopedItem(body: Record<string, unknown>): AblyItem {
  return {
    raw: body,
    source: String(body.source),
    name: body.name,
    timestamp: body.timestamp,
    channel: body.channel,
    messages: body.messages,
    presence: body.presence,
    status: body.status ?? (isObject(body.data) ? body.data.status : undefined),
    at: { channel: 'channel', messages: 'messages', presence: 'presence' },
  };
}

/** Single mode without the envelope: Ably puts the metadata in headers, and the body is the message's data. */
function isNotEnveloped(headers: HeaderMap): boolean {
  return Object.keys(headers).some((name) => name.startsWith('x-ably-envelope-') || name.startsWith('x-ably-message-'));
}

function notEnvelopedItem(body: unknown, headers: HeaderMap): AblyItem {
  const timestampHeader = headers['x-ably-message-timestamp']?.trim();
  if (timestampHeader !== undefined && !/^\d{1,16}$/.test(timestampHeader)) {
    throw new ItemError('x-ably-message-timestamp header must be epoch milliseconds');
  }
  const source = headers['x-ably-envelope-source'] ?? 'channel.message';
  const actionHeader = headers['x-ably-message-action']?.trim() ?? '';
  const action = /^\d+$/.test(actionHeader) ? Number(actionHeader) : actionHeader;
  if (source === 'channel.presence' && presenceActionFrom(action) === undefined) {
    throw new ItemError(`x-ably-message-action header must be a presence action (0 to ${PRESENCE_ACTIONS.length - 1})`);
  }
  const message = {
    id: headers['x-ably-message-id'],
    name: headers['x-ably-message-name'],
    clientId: headers['x-ably-message-client-id'],
    connectionId: headers['x-ably-message-connection-id'],
    timestamp: timestampHeader === undefined ? undefined : Number(timestampHeader),
    action,
    data: body,
  };
  return {
    raw: { ...message, channel: headers['x-ably-envelope-channel'] },
    source,
    name: headers['x-ably-message-name'],
    timestamp: message.timestamp,
    channel: headers['x-ably-envelope-channel'],
    messages: [message],
    presence: [message],
    status: body,
    at: { channel: 'x-ably-envelope-channel header', messages: 'message', presence: 'message' },
  };
}

// ---- One item → records → events ---------------------------------------------------------------------------------

interface ItemContext {
  options: AblyOptions;
  channelFilter: RegExp | undefined;
  receivedAt: Date;
  maxBodyBytes: number;
  toEvent: (record: AblyRecord) => QueuedEvent;
}

/** Batch mode: each item is taken or refused on its own. */
function takeBatch(items: unknown[], context: ItemContext): IngestResult {
  if (items.length > ABLY_MAX_BATCH_ITEMS) {
    throw new BadRequestError(`a batch holds at most ${ABLY_MAX_BATCH_ITEMS} items; this one has ${items.length}`);
  }
  const result: IngestResult = { events: [], ignored: 0, rejected: [] };
  items.forEach((raw, index) => {
    try {
      const taken = takeItem(batchItem(raw), context);
      result.events.push(...taken.events);
      result.ignored += taken.ignored;
    } catch (error) {
      if (!(error instanceof ItemError)) throw error;
      result.rejected.push({ index, error: error.message });
    }
  });
  return result;
}

/** Single mode: the request is the item, so an item the preset refuses refuses the request (Ably logs it). */
function takeSingle(readItem: () => AblyItem, context: ItemContext): IngestResult {
  try {
    return { ...takeItem(readItem(), context), rejected: [] };
  } catch (error) {
    if (error instanceof ItemTooLargeError) throw new HookhubError(error.message, 413, 'payload_too_large');
    if (error instanceof ItemError) throw new MalformedPayloadError(error.message);
    throw error;
  }
}

/** Every event of the item, or an ItemError: an item is taken whole or not at all. */
function takeItem(item: AblyItem, context: ItemContext): { events: QueuedEvent[]; ignored: number } {
  const { options } = context;
  switch (item.source) {
    case 'channel.message': {
      const channel = channelOf(item);
      const messages = arrayAt(item.messages, item.at.messages);
      if (!channelTaken(channel, context)) return { events: [], ignored: messages.length };
      const fallback = itemTimestamp(item, context);
      const records = messages.map((message, index) => messageRecord(message, `${item.at.messages}[${index}]`, channel, fallback, context));
      return { events: eventsOf(records, context), ignored: 0 };
    }
    case 'channel.presence': {
      // Ignored kinds are counted, not read: whatever their shape, nothing of them is kept.
      if (options.presence === 'ignore') return { events: [], ignored: Array.isArray(item.presence) ? item.presence.length : 1 };
      const channel = channelOf(item);
      const presence = arrayAt(item.presence, item.at.presence);
      if (!channelTaken(channel, context)) return { events: [], ignored: presence.length };
      const fallback = itemTimestamp(item, context);
      const records = presence.map((member, index) => presenceRecord(member, `${item.at.presence}[${index}]`, channel, fallback, context));
      return { events: eventsOf(records, context), ignored: 0 };
    }
    case 'channel.lifecycle': {
      if (options.lifecycle === 'ignore') return { events: [], ignored: 1 };
      const channel = channelOf(item);
      if (!channelTaken(channel, context)) return { events: [], ignored: 1 };
      if (typeof item.name !== 'string' || item.name.length === 0 || item.name.length > 256) {
        throw new ItemError('name must be a string of 1 to 256 characters');
      }
      const record: AblyRecord = {
        kind: 'lifecycle',
        // Ably gives a lifecycle item no id: the same item retried hashes alike.
        messageId: hashOf(item.raw),
        channel,
        name: item.name,
        ...definedFields({ status: item.status }),
        timestamp: itemTimestamp(item, context),
        receivedAt: context.receivedAt.toISOString(),
        via: 'webhook',
      };
      return { events: eventsOf([record], context), ignored: 0 };
    }
    default:
      // A kind this preset does not know yet (Ably adds sources): not an error, and not ours to store.
      return { events: [], ignored: 1 };
  }
}

function channelOf(item: AblyItem): string {
  if (typeof item.channel !== 'string' || item.channel.length === 0) throw new ItemError(`${item.at.channel} must be a non-empty string`);
  return item.channel;
}

/** For records whose own timestamp is missing: the item's, else the receive time. */
function itemTimestamp(item: AblyItem, context: ItemContext): number {
  return optionalNumber(item.timestamp, 'timestamp') ?? context.receivedAt.getTime();
}

function channelTaken(channel: string, context: ItemContext): boolean {
  return context.channelFilter === undefined || context.channelFilter.test(channel);
}

function arrayAt(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ItemError(`${path} must be an array`);
  return value;
}

/** Each record as its queued event, checked against the limits the worker and the store live by. */
function eventsOf(records: AblyRecord[], context: ItemContext): QueuedEvent[] {
  return records.map((record, index) => {
    const event = context.toEvent(record);
    const bytes = Buffer.byteLength(event.body, 'utf8');
    const what = records.length === 1 ? 'the item' : `record ${index} of the item`;
    if (bytes > context.maxBodyBytes) throw new ItemTooLargeError(`${what} is ${bytes} bytes once recorded; the limit is ${context.maxBodyBytes} bytes`);
    // The body passed the depth check, but a non-enveloped body sits one level deeper inside its record.
    if (exceedsNestingLimit(event.body)) throw new ItemError(`${what} nests deeper than ${MAX_JSON_NESTING_DEPTH} levels`);
    return event;
  });
}

function messageRecord(value: unknown, path: string, channel: string, fallbackTimestamp: number, context: ItemContext): AblyMessageRecord {
  if (!isObject(value)) throw new ItemError(`${path} is not an object`);
  const timestamp = optionalNumber(value.timestamp, `${path}.timestamp`);
  const encoding = optionalString(value.encoding, `${path}.encoding`);
  const name = stringOrNothing(value.name);
  const connectionId = stringOrNothing(value.connectionId);
  // Without an id, the message's own fields (never the fallback timestamp) name it, so a retry gets the same id.
  const id = optionalString(value.id, `${path}.id`) || hashOf({ channel, connectionId, timestamp, name, data: value.data });
  return {
    kind: 'message',
    messageId: boundedId(id)!,
    channel,
    ...definedFields({ name, clientId: stringOrNothing(value.clientId), connectionId }),
    direction: directionOf(channel, context.options.directions),
    data: value.data,
    ...definedFields({ encoding, extras: value.extras }),
    timestamp: timestamp ?? fallbackTimestamp,
    receivedAt: context.receivedAt.toISOString(),
    via: 'webhook',
  };
}

function presenceRecord(value: unknown, path: string, channel: string, fallbackTimestamp: number, context: ItemContext): AblyPresenceRecord {
  if (!isObject(value)) throw new ItemError(`${path} is not an object`);
  const action = presenceActionOf(value.action, `${path}.action`);
  const timestamp = optionalNumber(value.timestamp, `${path}.timestamp`);
  const encoding = optionalString(value.encoding, `${path}.encoding`);
  const clientId = stringOrNothing(value.clientId);
  const connectionId = stringOrNothing(value.connectionId);
  const id = optionalString(value.id, `${path}.id`) || hashOf({ channel, clientId, connectionId, action, timestamp, data: value.data });
  return {
    kind: 'presence',
    messageId: boundedId(id)!,
    channel,
    action,
    ...definedFields({ clientId, connectionId }),
    data: value.data,
    ...definedFields({ encoding }),
    timestamp: timestamp ?? fallbackTimestamp,
    receivedAt: context.receivedAt.toISOString(),
    via: 'webhook',
  };
}

/** Ably sends the action as its number; a name is taken too, since the wire form is not documented everywhere. */
function presenceActionOf(value: unknown, path: string): PresenceAction {
  const action = presenceActionFrom(value);
  if (action === undefined) throw new ItemError(`${path} must be a presence action (0 to ${PRESENCE_ACTIONS.length - 1})`);
  return action;
}

function presenceActionFrom(value: unknown): PresenceAction | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < PRESENCE_ACTIONS.length) return PRESENCE_ACTIONS[value];
  if (typeof value === 'string' && (PRESENCE_ACTIONS as readonly string[]).includes(value)) return value as PresenceAction;
  return undefined;
}

// ---- Small readers -----------------------------------------------------------------------------------------------

function hashOf(value: unknown): string {
  return contentHashId(Buffer.from(JSON.stringify(value), 'utf8'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent (or null, which Ably writes for unset fields) is undefined; any other non-string refuses the item. */
function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ItemError(`${path} must be a string`);
  return value;
}

function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ItemError(`${path} must be a number`);
  return value;
}

/** Descriptive fields (name, clientId, connectionId) are kept when they are strings and left out otherwise. */
function stringOrNothing(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The fields that have a value, so a record carries no `"name": undefined` keys. */
function definedFields<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
