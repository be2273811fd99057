/** InboundQueue over SQS: SendMessageBatch in chunks of 10; any entry SQS did not take fails the whole call. */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InboundQueue } from '../../core/ports';
import type { QueuedEvent } from '../../core/events/inbound-event';

export class SqsInboundQueue implements InboundQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(events: readonly QueuedEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += 10) {
      const chunk = events.slice(start, start + 10);
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((event, index) => ({ Id: String(index), MessageBody: JSON.stringify(event) })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        const reasons = result.Failed.map((failure) => `${failure.Code}: ${failure.Message ?? ''}`).join('; ');
        // The provider gets a 5xx and retries; the events already queued are deduplicated by id downstream.
        throw new Error(`SQS did not accept ${result.Failed.length} of ${chunk.length} events (${reasons})`);
      }
    }
  }
}
