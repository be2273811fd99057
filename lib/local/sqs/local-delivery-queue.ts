/**
 * The DeliveryQueue in process, for the local runtime: the same encoding, delay and size checks as SqsDeliveryQueue
 * (encodeDeliveryTasks), the refusals of the local SQS endpoint (message-rules.ts), and the same durable journal
 * behind it. All or nothing, as LocalInboundQueue: if any task would be refused, nothing is queued and the call
 * rejects; `send` resolves once the journal append returned.
 */
import type { DeliveryTask } from '../../../lambdas/core/outbound/outbound-model';
import type { DeliveryQueue } from '../../../lambdas/core/outbound/outbound-ports';
import { encodeDeliveryTasks } from '../../../lambdas/adapters/sqs/sqs-delivery-queue';
import type { LocalQueue } from './local-queue';
import { messageRefusal } from './message-rules';

export class LocalDeliveryQueue implements DeliveryQueue {
  constructor(private readonly queue: LocalQueue) {}

  async send(tasks: readonly { task: DeliveryTask; delaySeconds: number }[]): Promise<void> {
    if (tasks.length === 0) return;
    const messages = encodeDeliveryTasks(tasks);
    const refused = messages.flatMap(({ task, body }) => {
      const refusal = messageRefusal(body);
      return refusal ? [`message ${task.messageId} to ${task.endpointId}: ${refusal.code}: ${refusal.message}`] : [];
    });
    if (refused.length > 0) throw new Error(`SQS did not queue ${refused.length} of ${tasks.length} delivery tasks (${refused.join('; ')})`);
    this.queue.send(messages.map(({ body, delaySeconds }) => ({ body, delaySeconds })));
  }
}
