/** Validates an SQS message body as a QueuedEvent: the worker must not trust what it reads off the queue. */
import * as z from 'zod/mini';
import type { QueuedEvent } from './inbound-event';
import { nameValueMapOf, type NameValueMap } from '../name-value-map';

/**
 * Header names are the client's: z.record copies entries into a plain object, where a `__proto__` header is
 * silently dropped. This accepts any own string-valued entry; decoding rebuilds the map on a null prototype.
 */
const headerEntries = z.custom<Record<string, string>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((entry) => typeof entry === 'string'),
  'headers must map names to strings',
);

const queuedEventSchema = z.object({
  version: z.literal(1),
  id: z.string().check(z.regex(/^evt_[0-9a-f]{32}$/)),
  source: z.string().check(z.minLength(1)),
  providerEventId: z.string().check(z.minLength(1)),
  type: z.string().check(z.minLength(1)),
  channel: z.string().check(z.minLength(1)),
  receivedAt: z.iso.datetime(),
  requestId: z.string(),
  headers: headerEntries,
  body: z.string(),
  payloadFormat: z.enum(['json', 'text', 'base64']),
});

export function parseQueuedEvent(messageBody: string): QueuedEvent {
  const message = queuedEventSchema.parse(JSON.parse(messageBody));
  const headers: NameValueMap = nameValueMapOf(Object.entries(message.headers));
  return { ...message, headers };
}
