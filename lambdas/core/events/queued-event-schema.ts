/** Validates an SQS message body as a QueuedEvent: the worker must not trust what it reads off the queue. */
import * as z from 'zod/mini';
import type { QueuedEvent } from './inbound-event';

const queuedEventSchema = z.object({
  version: z.literal(1),
  id: z.string().check(z.regex(/^evt_[0-9a-f]{32}$/)),
  source: z.string().check(z.minLength(1)),
  providerEventId: z.string().check(z.minLength(1)),
  type: z.string().check(z.minLength(1)),
  channel: z.string().check(z.minLength(1)),
  receivedAt: z.iso.datetime(),
  requestId: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  payloadFormat: z.enum(['json', 'text', 'base64']),
});

export function parseQueuedEvent(messageBody: string): QueuedEvent {
  return queuedEventSchema.parse(JSON.parse(messageBody)) as QueuedEvent;
}
