/**
 * Plays a Lambda SQS event source mapping with ReportBatchItemFailures: long-polls the queue through the real SQS
 * client, invokes the worker with the SQS event shape Lambda builds, deletes the records it did not report as
 * failed, and leaves the failed ones to reappear after their visibility timeout (and reach the DLQ eventually).
 * A handler that throws fails the whole batch, as on AWS.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

export type SqsLambda = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export class SqsEventSource {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly aborts = new Set<AbortController>();

  constructor(
    private readonly options: {
      client: SQSClient;
      queueUrl: string;
      queueArn: string;
      handler: SqsLambda;
      functionName: string;
      batchSize: number;
      /** Parallel pollers, like the concurrent invocations Lambda scales an event source mapping to. */
      concurrency: number;
      onError?: (error: unknown) => void;
    },
  ) {}

  start(): void {
    this.running = true;
    for (let index = 0; index < this.options.concurrency; index++) this.loops.push(this.poll());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const abort of this.aborts) abort.abort();
    await Promise.all(this.loops);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      const abort = new AbortController();
      this.aborts.add(abort);
      try {
        const received = await this.options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: this.options.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        const messages = received.Messages ?? [];
        if (messages.length > 0) await this.invoke(messages);
      } catch (error) {
        if (!this.running) break;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        this.aborts.delete(abort);
      }
    }
  }

  private async invoke(messages: Message[]): Promise<void> {
    const event = sqsEventOf(messages, this.options.queueArn, 'local');
    let failed: Set<string>;
    try {
      const response = await this.options.handler(event, lambdaContext(this.options.functionName, 30_000));
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      this.options.onError?.(error);
      return; // whole batch retried after the visibility timeout
    }
    const done = event.Records.filter((record) => !failed.has(record.messageId));
    if (done.length === 0) return;
    await this.options.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.options.queueUrl,
        Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
  }
}

/** The event Lambda's SQS event source hands a function for a batch of received messages. */
export function sqsEventOf(messages: readonly Message[], queueArn: string, awsRegion: string): SQSEvent {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId!,
      receiptHandle: message.ReceiptHandle!,
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: message.Attributes?.SenderId ?? '000000000000',
        ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion,
    })),
  };
}
