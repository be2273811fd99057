/**
 * The ingest function's InboundQueue, in process, for the local runtime: the same encoding and limits as
 * SqsInboundQueue (encodeForQueue), the refusals of the local SQS endpoint (message-rules.ts), and the same durable
 * journal behind it, without an SDK call and a loopback HTTP round trip per request. `enqueue` resolves only after
 * the journal append returned (written with write(2), fdatasync'ed too in fsync mode), so a 202 still means the
 * event survives kill -9. The append is all or nothing: if any event would be refused, or the write fails (a full
 * disk), nothing is queued and the call rejects, and the handler answers 500 as it does when SQS fails.
 *
 * SqsInboundQueue, which runs on AWS, stays covered against the local SQS endpoint (test/integration).
 */
import type { InboundQueue } from '../../../lambdas/core/ports';
import type { QueuedEvent } from '../../../lambdas/core/events/inbound-event';
import { encodeForQueue, notAccepted } from '../../../lambdas/adapters/sqs/sqs-inbound-queue';
import type { LocalQueue } from './local-queue';
import { messageRefusal } from './message-rules';

export class LocalInboundQueue implements InboundQueue {
  constructor(private readonly queue: LocalQueue) {}

  async enqueue(events: readonly QueuedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const messages = encodeForQueue(events);
    const refused = messages.flatMap(({ body }) => {
      const refusal = messageRefusal(body);
      return refusal ? [{ Code: refusal.code, Message: refusal.message }] : [];
    });
    if (refused.length > 0) throw notAccepted(refused, messages.length);
    this.queue.send(messages.map(({ body }) => ({ body })));
  }
}
