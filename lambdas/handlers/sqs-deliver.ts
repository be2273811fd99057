/**
 * Delivery queue consumer: tries each task of the batch (core/outbound/deliver-tasks.ts) and answers SQS per
 * record. A task not due yet (a wait longer than SQS's 15-minute delay) is hidden again with
 * ChangeMessageVisibility and reported as a batch item failure, so SQS keeps it; a malformed task is reported too,
 * and reaches the dead-letter queue after maxReceiveCount. If recording the batch fails, every record is retried.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadOutboundConfig } from '../config';
import { decodeDeliveryTask } from '../core/outbound/delivery-task-codec';
import { deliverTasks, type DeliverDeps } from '../core/outbound/deliver-tasks';
import { InFlightTries } from '../core/outbound/in-flight-tries';
import { MAX_QUEUE_VISIBILITY_SECONDS } from '../core/outbound/attempt-delivery';
import { StatsBuffer } from '../core/outbound/stats-buffer';
import type { DeliveryTask } from '../core/outbound/outbound-model';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoDbRateLimiter } from '../adapters/dynamodb/rate-limiter';
import { createOutboundContext } from './outbound/outbound-context';

export interface DeliverHandlerDeps {
  deliver: DeliverDeps;
  /** Hides a received message for `seconds` more (SQS ChangeMessageVisibility). */
  hide: (receiptHandle: string, seconds: number) => Promise<void>;
  logger: Logger;
}

export function buildHandler(deps: DeliverHandlerDeps) {
  return middy(async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const receivedAt = Date.now();
    const failures: string[] = [];
    const decoded: { messageId: string; receiptHandle: string; task: DeliveryTask }[] = [];
    for (const record of event.Records) {
      try {
        decoded.push({ messageId: record.messageId, receiptHandle: record.receiptHandle, task: decodeDeliveryTask(record.body) });
      } catch (error) {
        deps.logger.error('malformed delivery task', { messageId: record.messageId, error: error as Error });
        failures.push(record.messageId);
      }
    }
    const { results, summary } = await deliverTasks(
      decoded.map((entry) => entry.task),
      deps.deliver,
    );
    await Promise.all(
      results.map(async (result, index) => {
        const { messageId, receiptHandle } = decoded[index]!;
        if (result.kind === 'failed') failures.push(messageId);
        if (result.kind !== 'wait') return;
        // SQS keeps a message hidden at most 12 h from its receive: a longer wait comes back early and is hidden again.
        const seconds = Math.min(result.seconds, MAX_QUEUE_VISIBILITY_SECONDS - Math.ceil((Date.now() - receivedAt) / 1000) - 60);
        // Reported as a failure either way, so SQS keeps the message; if hiding failed it is seen again sooner.
        await deps.hide(receiptHandle, seconds).catch((error: unknown) => deps.logger.warn('could not hide a waiting task', { messageId, error: error as Error }));
        failures.push(messageId);
      }),
    );
    deps.logger.info('batch delivered', { ...summary, waiting: results.filter((result) => result.kind === 'wait').length });
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  }).use(injectLambdaContext(deps.logger));
}

/** A try running longer than this marks its endpoint slow: no new tries to it until it ends (in-flight-tries.ts). */
const SLOW_TRY_MS = 2_000;

const config = loadOutboundConfig();
const logger = new Logger({ serviceName: 'hookhub-deliver' });
const documents = createDocumentClient();
const context = createOutboundContext(config, documents, logger);
const sqs = new SQSClient({});

export const handler = buildHandler({
  deliver: {
    ...context.attemptDeps,
    endpoints: context.endpoints,
    endpointStore: context.endpointStore,
    log: context.log,
    stats: new StatsBuffer(context.log, 1_000, (error) => logger.warn('could not write endpoint stats', { error: error as Error })),
    rateLimiter: new DynamoDbRateLimiter(documents, config.attemptsTable),
    queue: context.queue,
    ops: context.ops,
    inFlight: new InFlightTries({ initialLimit: 4, maxLimit: config.maxInFlightPerEndpoint, slowAfterMs: SLOW_TRY_MS }),
    slowTryMs: SLOW_TRY_MS,
    onError: (what, error) => logger.error(what, { error: error as Error }),
  },
  hide: async (receiptHandle, seconds) => {
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: config.deliveryQueueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
  },
  logger,
});
