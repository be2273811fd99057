/**
 * The delivery queue's message body, both ways: JSON of the DeliveryTask with a version, every character SQS
 * refuses written as a `\uXXXX` escape (the payload is the publisher's JSON and may hold U+FFFF, say). The worker
 * validates what it reads: a message is untrusted until it has the task's shape.
 */
import * as z from 'zod/mini';
import type { DeliveryTask } from './outbound-model';
import { escapeRefusedCharacters } from '../events/queue-message-characters';

export const DELIVERY_TASK_VERSION = 1;

export function encodeDeliveryTask(task: DeliveryTask): string {
  return escapeRefusedCharacters(JSON.stringify({ version: DELIVERY_TASK_VERSION, ...task }));
}

/** Built on first decode, not at import: only the delivery worker decodes, and only it should build zod. */
let deliveryTaskSchema: ReturnType<typeof buildDeliveryTaskSchema> | undefined;

function buildDeliveryTaskSchema() {
  return z.object({
    version: z.literal(DELIVERY_TASK_VERSION),
    messageId: z.string().check(z.regex(/^msg_[0-9A-Za-z]+$/)),
    endpointId: z.string().check(z.regex(/^ep_[0-9A-Za-z]+$/)),
    eventType: z.string().check(z.minLength(1)),
    source: z.string().check(z.minLength(1)),
    payload: z.string(),
    attemptNumber: z.int().check(z.minimum(1)),
    trigger: z.enum(['scheduled', 'manual']),
    notBefore: z.optional(z.iso.datetime()),
    createdAt: z.iso.datetime(),
    recordMessage: z.optional(z.boolean()),
  });
}

/** A queued message that is not a delivery task. Its message names the wrong fields only, never their values (the payload). */
export class InvalidDeliveryTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDeliveryTaskError';
  }
}

export function decodeDeliveryTask(body: string): DeliveryTask {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new InvalidDeliveryTaskError('the delivery message is not JSON');
  }
  const result = (deliveryTaskSchema ??= buildDeliveryTaskSchema()).safeParse(parsed);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((issue) => issue.path.join('.') || '(root)'))].slice(0, 10);
    throw new InvalidDeliveryTaskError(`the delivery message is not a delivery task (bad fields: ${fields.join(', ')})`);
  }
  const { version: _version, notBefore, recordMessage, ...task } = result.data;
  return { ...task, ...(notBefore !== undefined ? { notBefore } : {}), ...(recordMessage ? { recordMessage } : {}) };
}
