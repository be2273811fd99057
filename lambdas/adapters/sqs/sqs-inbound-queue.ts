/**
 * InboundQueue over SQS. Each event is serialized once; one that exceeds SQS's message limit is refused with a 413
 * before anything is sent, and SendMessageBatch calls are cut at 10 entries or the limit's total size, whichever
 * comes first. Any entry SQS did not take fails the whole call (the provider gets a 5xx and retries; what was
 * already queued is deduplicated by event id downstream).
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { InboundQueue } from '../../core/ports';
import type { QueuedEvent } from '../../core/events/inbound-event';
import { PayloadTooLargeError } from '../../core/errors';

/** SQS refuses a message, and a whole SendMessageBatch request, over 256 KiB. */
export const MAX_QUEUE_MESSAGE_BYTES = 256 * 1024;
const MAX_BATCH_ENTRIES = 10;

export class SqsInboundQueue implements InboundQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(events: readonly QueuedEvent[]): Promise<void> {
    const batches: SendMessageBatchRequestEntry[][] = [];
    let batch: SendMessageBatchRequestEntry[] = [];
    let batchBytes = 0;
    events.forEach((event, index) => {
      const body = JSON.stringify(event);
      const bytes = Buffer.byteLength(body);
      if (bytes > MAX_QUEUE_MESSAGE_BYTES) throw new PayloadTooLargeError(bytes, MAX_QUEUE_MESSAGE_BYTES);
      if (batch.length === MAX_BATCH_ENTRIES || batchBytes + bytes > MAX_QUEUE_MESSAGE_BYTES) {
        batches.push(batch);
        batch = [];
        batchBytes = 0;
      }
      batch.push({ Id: String(index), MessageBody: body });
      batchBytes += bytes;
    });
    if (batch.length > 0) batches.push(batch);

    for (const entries of batches) {
      const result = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      if (result.Failed && result.Failed.length > 0) {
        const reasons = result.Failed.map((failure) => `${failure.Code}: ${failure.Message ?? ''}`).join('; ');
        throw new Error(`SQS did not accept ${result.Failed.length} of ${entries.length} events (${reasons})`);
      }
    }
  }
}
