/**
 * The inbound worker's thread (see inbound-worker.ts): the `sqs-process-inbound` handler module behind an SQS event
 * source, with the real SDK clients against the local endpoints (SQS on the main thread, dynalite on its own
 * thread, @connections on the WebSocket gateway). The handler reads its configuration from this thread's copy of the
 * environment at import, as on a Lambda cold start.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SQSClient } from '@aws-sdk/client-sqs';
import { INBOUND_QUEUE } from '../../lambdas/adapters/sqs/queue-definitions';
import type { EventProcessor } from '../../lambdas/core/ports';
import type * as WorkerHandler from '../../lambdas/handlers/sqs-process-inbound';
import { eventProcessors } from '../../lambdas/processors/registry';
import { SqsEventSource, type SqsLambda } from './sqs-event-source';
import type { InboundWorkerData, InboundWorkerMessage } from './inbound-worker';

const data = workerData as InboundWorkerData;

function tell(message: InboundWorkerMessage): void {
  parentPort!.postMessage(message);
}

function main(): void {
  // Loaded through tsx's require hook (typescript-thread.js): an import() here would bypass it.
  const worker = require('../../lambdas/handlers/sqs-process-inbound') as typeof WorkerHandler;
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
    functionName: 'sqs-process-inbound',
    batchSize: INBOUND_QUEUE.batchSize,
    concurrency: data.concurrency,
    onError: (error) => console.error('[sqs-process-inbound]', error),
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
