/**
 * DeliveryQueue over SQS: one message per task (delivery-task-codec.ts), each with its own DelaySeconds, sent with
 * SendMessageBatch cut at 10 entries or the queue's size limit, whichever comes first. All or throw: entries SQS
 * did not take are sent once more (a throttled or internal failure often passes the second time), and any still
 * refused fail the whole call, naming each. What was queued stays queued; a try is idempotent per (message,
 * endpoint, attempt) downstream, so the caller may send everything again.
 */
import { SendMessageBatchCommand, type BatchResultErrorEntry, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryTask } from '../../core/outbound/outbound-model';
import type { DeliveryQueue } from '../../core/outbound/outbound-ports';
import { encodeDeliveryTask } from '../../core/outbound/delivery-task-codec';
import { DELIVERY_QUEUE } from './queue-definitions';

const MAX_BATCH_ENTRIES = 10;

export interface EncodedDeliveryTask {
  task: DeliveryTask;
  body: string;
  bytes: number;
  delaySeconds: number;
}

export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(tasks: readonly { task: DeliveryTask; delaySeconds: number }[]): Promise<void> {
    const encoded = encodeDeliveryTasks(tasks);
    const failures: string[] = [];
    for (const batch of batchesOf(encoded.map((message, index) => ({ ...message, id: String(index) })))) {
      let failed = await this.sendBatch(batch);
      // Once more for what SQS did not take, unless the fault is the message's own (it would be refused again).
      const retryable = failed.filter(({ failure }) => !failure.SenderFault);
      if (retryable.length > 0) failed = [...failed.filter(({ failure }) => failure.SenderFault), ...(await this.sendBatch(retryable.map(({ entry }) => entry)))];
      failures.push(...failed.map(({ entry, failure }) => `message ${entry.task.messageId} to ${entry.task.endpointId}: ${failure.Code}: ${failure.Message ?? ''}`));
    }
    if (failures.length > 0) throw new Error(`SQS did not queue ${failures.length} of ${tasks.length} delivery tasks (${failures.join('; ')})`);
  }

  /** The entries of one SendMessageBatch that SQS did not take, with why. */
  private async sendBatch(batch: readonly (EncodedDeliveryTask & { id: string })[]) {
    const entries: SendMessageBatchRequestEntry[] = batch.map((entry) => ({ Id: entry.id, MessageBody: entry.body, DelaySeconds: entry.delaySeconds }));
    const result = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
    const byId = new Map(batch.map((entry) => [entry.id, entry]));
    return (result.Failed ?? []).map((failure: BatchResultErrorEntry) => ({ entry: byId.get(failure.Id!)!, failure }));
  }
}

/**
 * Each task's message body, encoded once, and its delay checked. Throws for a task over the queue's message limit
 * (a payload is at most 256 KiB and escaping at most doubles it, so this is ours to fix) or a delay SQS would refuse.
 * Shared with the local runtime's in-process queue, so both refuse alike.
 */
export function encodeDeliveryTasks(tasks: readonly { task: DeliveryTask; delaySeconds: number }[]): EncodedDeliveryTask[] {
  return tasks.map(({ task, delaySeconds }) => {
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > DELIVERY_QUEUE.maxDelaySeconds) {
      throw new RangeError(`delaySeconds must be a whole number from 0 to ${DELIVERY_QUEUE.maxDelaySeconds}; got ${delaySeconds}`);
    }
    const body = encodeDeliveryTask(task);
    const bytes = Buffer.byteLength(body);
    if (bytes > DELIVERY_QUEUE.maxMessageBytes) {
      throw new Error(`the task for message ${task.messageId} encodes to ${bytes} bytes; the queue takes ${DELIVERY_QUEUE.maxMessageBytes}`);
    }
    return { task, body, bytes, delaySeconds };
  });
}

/** Batches of at most 10 entries whose bodies together fit one SendMessageBatch request. */
function batchesOf<T extends { bytes: number }>(messages: readonly T[]): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let batchBytes = 0;
  for (const message of messages) {
    if (batch.length === MAX_BATCH_ENTRIES || (batch.length > 0 && batchBytes + message.bytes > DELIVERY_QUEUE.maxMessageBytes)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(message);
    batchBytes += message.bytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
