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

/**
 * A queued message that is not a hookhub event. Its message names only the fields that are wrong, never their
 * values: JSON.parse and zod quote the input, and the input is a webhook payload.
 */
export class InvalidQueuedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueuedEventError';
  }
}

export function parseQueuedEvent(messageBody: string): QueuedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(messageBody);
  } catch {
    throw new InvalidQueuedEventError('the queued message is not JSON');
  }
  const result = queuedEventSchema.safeParse(parsed);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((issue) => issue.path.join('.') || '(root)'))].slice(0, 10);
    throw new InvalidQueuedEventError(`the queued message is not a hookhub event (bad fields: ${fields.join(', ')})`);
  }
  return result.data as QueuedEvent;
}
