/**
 * What SQS refuses in a message body, as the error code and message it answers with. One place for the local SQS
 * endpoint (which answers them over the wire) and the in-process inbound queue (which throws them as the SQS adapter
 * would), so the two cannot refuse differently.
 */
import { CHARACTER_SQS_REFUSES } from '../../../lambdas/core/events/queue-message-characters';
import { MAX_MESSAGE_BYTES } from './local-queue';

export interface MessageRefusal {
  /** SQS's error code (`com.amazonaws.sqs#<code>` on the wire, `Code` of a failed batch entry). */
  code: 'InvalidParameterValue' | 'InvalidMessageContents';
  message: string;
}

export const INVALID_CONTENTS =
  'Invalid characters found. Valid characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF';

/** Why SQS would refuse `body` as a message, or undefined when it takes it. */
export function messageRefusal(body: unknown): MessageRefusal | undefined {
  if (typeof body !== 'string' || body.length === 0) return { code: 'InvalidParameterValue', message: 'MessageBody is required' };
  if (CHARACTER_SQS_REFUSES.test(body)) return { code: 'InvalidMessageContents', message: INVALID_CONTENTS };
  if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) return { code: 'InvalidParameterValue', message: `message is longer than ${MAX_MESSAGE_BYTES} bytes` };
  return undefined;
}
