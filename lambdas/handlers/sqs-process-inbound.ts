/**
 * Inbound queue consumer: stores each event once, runs its processing step, fans it out over WebSocket.
 * Returns batchItemFailures for exactly the records that failed; SQS redelivers those and, after
 * maxReceiveCount, moves them to the DLQ, while the rest of the batch is deleted.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadAblyTables, loadPublisherConfig, loadWorkerConfig } from '../config';
import { processInboundEvent } from '../core/events/process-inbound';
import { decodeQueuedEvent } from '../core/events/queued-event-codec';
import { failedAttempt } from '../core/events/failed-attempt';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { INBOUND_QUEUE } from '../adapters/sqs/queue-definitions';
import { createStoreOnceWiring, forBatch, type StoreOnceWiring } from './inbound/inbound-processing';

export type WorkerDeps = StoreOnceWiring;

export function buildHandler(deps: WorkerDeps) {
  return middy(async (event: SQSEvent, context: Context) => {
    const processDeps = forBatch(deps);
    const processRecord = async (record: SQSRecord) => {
      const attempt = { messageId: record.messageId, receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1 };
      let eventId: string | undefined;
      try {
        const queued = decodeQueuedEvent(record.body);
        eventId = queued.id;
        const result = await processInboundEvent(queued, attempt, processDeps);
        deps.logger.info(result.outcome, { ...result, receiveCount: attempt.receiveCount });
      } catch (error) {
        deps.logger.error('processing failed', failedAttempt(error, { eventId, ...attempt, maxReceiveCount: INBOUND_QUEUE.maxReceiveCount }));
        throw error;
      }
    };
    return processPartialResponse(event, processRecord, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
  }).use(injectLambdaContext(deps.logger));
}

const logger = new Logger({ serviceName: 'hookhub-worker' });
const config = loadWorkerConfig();

export const handler = buildHandler(
  createStoreOnceWiring({ ...config, ...loadAblyTables(), publisher: loadPublisherConfig() }, createDocumentClient(), logger),
);
