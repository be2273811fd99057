/**
 * The SQS message body of a queued event, both ways: what the ingest Lambda sends and the worker reads back. Two
 * constraints shape it:
 * - SQS refuses some characters (queue-message-characters.ts) that a body, or a value read from it such as the
 *   event type, may hold. Each is written as a `\uXXXX` escape, so no request is refused, on any retry.
 * - Any body up to the accepted maximum must fit the queue's message limit. Escaping into a JSON string grows a
 *   body by up to 6x (a control character in a `text` body becomes `\u0001`; quotes, backslashes and U+FFFF
 *   double), base64 by 4/3. So the body travels as a JSON string when that is no longer than base64, else as
 *   base64 of its UTF-8 bytes (`bodyEncoding`): the worst case is base64's 4/3, and a typical JSON body stays
 *   readable in the queue and the DLQ.
 * Version 2 added `bodyEncoding`; a worker still decodes version 1 messages (the body always a JSON string), and a
 * version 1 worker refuses version 2 messages instead of storing base64 as the body.
 */
import * as z from 'zod/mini';
import type { QueuedEvent } from './inbound-event';
import { nameValueMapOf } from '../name-value-map';
import { escapeRefusedCharacters } from './queue-message-characters';

export const QUEUED_EVENT_VERSION = 2;

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Room for everything in a message but the body: ids, type, channel, timestamps and the kept headers (API Gateway
 * passes at most 10 KiB of headers; escaped, under 20 KiB). Used to size limits, not to cut anything.
 */
export const MESSAGE_ENVELOPE_RESERVE_BYTES = 64 * 1024;

/** The largest message a body of `bodyBytes` can become, whatever its characters. */
export function worstCaseMessageBytes(bodyBytes: number): number {
  return base64Length(bodyBytes) + 2 + MESSAGE_ENVELOPE_RESERVE_BYTES;
}

export function encodeQueuedEvent(event: QueuedEvent): string {
  const asString = escapeRefusedCharacters(JSON.stringify(event.body));
  const bodyBytes = Buffer.byteLength(event.body, 'utf8');
  // A lone surrogate has no UTF-8 form (base64 would turn it into U+FFFD); ingest never produces one, but the
  // codec stays lossless for any string.
  const carried =
    Buffer.byteLength(asString, 'utf8') <= base64Length(bodyBytes) + 2 || LONE_SURROGATE.test(event.body)
      ? { bodyEncoding: 'identity' as const, body: event.body }
      : { bodyEncoding: 'base64' as const, body: Buffer.from(event.body, 'utf8').toString('base64') };
  return escapeRefusedCharacters(JSON.stringify({ ...event, version: QUEUED_EVENT_VERSION, ...carried }));
}

/**
 * Built on first decode, not at import: config.ts reaches this module (for the queue's size arithmetic) from every
 * handler, and the handlers that never decode a queued event should not bundle or build zod.
 */
let queuedEventSchema: ReturnType<typeof buildQueuedEventSchema> | undefined;

function buildQueuedEventSchema() {
  // Header names are the client's: z.record copies entries into a plain object, where a `__proto__` header is
  // silently dropped. This accepts any own string-valued entry; decoding rebuilds the map on a null prototype.
  const headerEntries = z.custom<Record<string, string>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((entry) => typeof entry === 'string'),
    'headers must map names to strings',
  );

  return z.object({
    version: z.union([z.literal(1), z.literal(QUEUED_EVENT_VERSION)]),
    id: z.string().check(z.regex(/^evt_[0-9a-f]{32}$/)),
    source: z.string().check(z.minLength(1)),
    providerEventId: z.string().check(z.minLength(1)),
    type: z.string().check(z.minLength(1)),
    channel: z.string().check(z.minLength(1)),
    receivedAt: z.iso.datetime(),
    requestId: z.string(),
    headers: headerEntries,
    body: z.string(),
    bodyEncoding: z.optional(z.enum(['identity', 'base64'])),
    payloadFormat: z.enum(['json', 'text', 'base64']),
  });
}

/**
 * A queued message that is not a hookhub event. Its message names only the fields that are wrong, never their
 * values: JSON.parse and zod quote the input, and the input is a webhook payload that must not reach the logs.
 */
export class InvalidQueuedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueuedEventError';
  }
}

/** Validates a message read off the queue (the worker must not trust it) and returns the event it carries. */
export function decodeQueuedEvent(messageBody: string): QueuedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(messageBody);
  } catch {
    throw new InvalidQueuedEventError('the queued message is not JSON');
  }
  const result = (queuedEventSchema ??= buildQueuedEventSchema()).safeParse(parsed);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((issue) => issue.path.join('.') || '(root)'))].slice(0, 10);
    throw new InvalidQueuedEventError(`the queued message is not a hookhub event (bad fields: ${fields.join(', ')})`);
  }
  const { version: _version, bodyEncoding, ...message } = result.data;
  const body = bodyEncoding === 'base64' ? Buffer.from(message.body, 'base64').toString('utf8') : message.body;
  return { ...message, body, headers: nameValueMapOf(Object.entries(message.headers)) };
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}
