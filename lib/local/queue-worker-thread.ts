/**
 * A queue worker's thread (see queue-worker.ts): a handler module (`sqs-process-inbound`, `sqs-deliver`) behind an
 * SQS event source, with the real SDK clients against the local endpoints (SQS on the main thread, dynalite on its own
 * thread, @connections on the WebSocket gateway). The handler reads its configuration from this thread's copy of the
 * environment at import, as on a Lambda cold start.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { EventProcessor } from '../../lambdas/core/ports';
import type { SQSEvent, Context, SQSBatchResponse } from 'aws-lambda';
import { eventProcessors } from '../../lambdas/providers/registry';
import { SqsEventSource, type SqsLambda } from './sqs-event-source';
import type { QueueWorkerData, QueueWorkerMessage } from './queue-worker';

const data = workerData as QueueWorkerData;

function tell(message: QueueWorkerMessage): void {
  parentPort!.postMessage(message);
}

function main(): void {
  // Loaded through tsx's require hook (typescript-thread.js): an import() here would bypass it.
  const worker = require(`../../lambdas/handlers/${data.handler}`) as { handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void> };
  if (data.processorsModule) {
    const extra = require(data.processorsModule) as { eventProcessors?: Record<string, EventProcessor> };
    Object.assign(eventProcessors, extra.eventProcessors ?? {});
  }

  const client = new SQSClient({});
  const eventSource = new SqsEventSource({
    client,
    queueUrl: data.queueUrl,
    queueArn: data.queueArn,
    handler: worker.handler as unknown as SqsLambda,
    functionName: data.handler,
    batchSize: data.batchSize,
    concurrency: data.concurrency,
    onError: (error) => console.error(`[${data.handler}]`, error),
  });
  parentPort!.on('message', (message: 'stop') => {
    if (message !== 'stop') return;
    // Finishes the batches in hand (their deletes included) before saying so; a batch cut off here would only be
    // received again after its visibility timeout, but a clean stop should leave nothing in flight.
    eventSource.stop().then(
      () => {
        client.destroy();
        tell({ type: 'stopped' });
      },
      (error: unknown) => tell({ type: 'error', message: describe(error) }),
    );
  });
  eventSource.start();
  tell({ type: 'ready' });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

try {
  main();
} catch (error) {
  tell({ type: 'error', message: describe(error) });
  process.exit(1);
}
