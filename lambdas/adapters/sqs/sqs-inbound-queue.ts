/**
 * InboundQueue over SQS. Each event is encoded once (queued-event-codec.ts: no character SQS refuses, and a size
 * bounded by the body's), and SendMessageBatch calls are cut at 10 entries or the queue's size limit, whichever
 * comes first, and sent a few at once. Any entry SQS did not take fails the whole call (the provider gets a 5xx and
 * retries; what was already queued is deduplicated by event id downstream).
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { InboundQueue } from '../../core/ports';
import type { QueuedEvent } from '../../core/events/inbound-event';
import { encodeQueuedEvent, worstCaseMessageBytes } from '../../core/events/queued-event-codec';
import { INBOUND_QUEUE } from './queue-definitions';
import { forEachBounded } from '../../core/bounded-concurrency';

const MAX_BATCH_ENTRIES = 10;

/**
 * SendMessageBatch calls in flight at once: a 1,000-event Ably batch is 100 calls, whose round trips would add up
 * one after another while the provider waits for the answer; 8 stays well inside the SDK's default socket pool.
 */
const SEND_CONCURRENCY = 8;

/** The largest body whose message fits the queue whatever its characters (the codec's worst case). */
export const MAX_QUEUEABLE_BODY_BYTES = largestBodyFitting(INBOUND_QUEUE.maxMessageBytes);

export class SqsInboundQueue implements InboundQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(events: readonly QueuedEvent[]): Promise<void> {
    const limit = INBOUND_QUEUE.maxMessageBytes;
    const batches: SendMessageBatchRequestEntry[][] = [];
    let batch: SendMessageBatchRequestEntry[] = [];
    let batchBytes = 0;
    encodeForQueue(events).forEach(({ body, bytes }, index) => {
      if (batch.length === MAX_BATCH_ENTRIES || batchBytes + bytes > limit) {
        batches.push(batch);
        batch = [];
        batchBytes = 0;
      }
      batch.push({ Id: String(index), MessageBody: body });
      batchBytes += bytes;
    });
    if (batch.length > 0) batches.push(batch);

    await forEachBounded(batches, SEND_CONCURRENCY, async (entries) => {
      const result = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      if (result.Failed && result.Failed.length > 0) throw notAccepted(result.Failed, entries.length);
    });
  }
}

/**
 * Each event's message body, encoded once. Throws if one is over the queue's message limit: unreachable while the
 * body limit stays under MAX_QUEUEABLE_BODY_BYTES (config.ts), since the client's body was within its limit, so
 * this is ours to fix, not a 413 quoting a size the client never sent. Shared with the local runtime's in-process
 * queue adapter, so both refuse alike.
 */
export function encodeForQueue(events: readonly QueuedEvent[]): { body: string; bytes: number }[] {
  const limit = INBOUND_QUEUE.maxMessageBytes;
  return events.map((event) => {
    const body = encodeQueuedEvent(event);
    const bytes = Buffer.byteLength(body);
    if (bytes > limit) throw new Error(`event ${event.id} encodes to ${bytes} bytes; the queue takes ${limit}`);
    return { body, bytes };
  });
}

/** The error for entries the queue refused (SendMessageBatch's `Failed`): the whole enqueue fails. */
export function notAccepted(failed: readonly { Code?: string; Message?: string }[], entries: number): Error {
  const reasons = failed.map((failure) => `${failure.Code}: ${failure.Message ?? ''}`).join('; ');
  return new Error(`SQS did not accept ${failed.length} of ${entries} events (${reasons})`);
}

/** worstCaseMessageBytes grows by 4 bytes per 3 body bytes on top of a fixed part. */
function largestBodyFitting(messageBytes: number): number {
  return 3 * Math.floor((messageBytes - worstCaseMessageBytes(0)) / 4);
}
