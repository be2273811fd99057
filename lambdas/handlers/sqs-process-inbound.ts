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
import { loadAblyTables, loadPublisherConfig, loadRetentionDays, loadWorkerConfig } from '../config';
import { processInboundEvent, type ProcessInboundDeps } from '../core/events/process-inbound';
import { decodeQueuedEvent } from '../core/events/queued-event-codec';
import { failedAttempt } from '../core/events/failed-attempt';
import { fanOutEvent } from '../core/realtime/fan-out';
import { BatchSubscriberCache } from '../core/realtime/batch-subscriber-cache';
import type { ConnectionMessenger, ConnectionStore } from '../core/ports';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoDbEventStore } from '../adapters/dynamodb/event-store';
import { DynamoDbConnectionStore } from '../adapters/dynamodb/connection-store';
import { ApiGatewayConnectionMessenger } from '../adapters/apigw-management/apigw-connection-messenger';
import { createManagementApiClient } from '../adapters/apigw-management/management-api-client';
import { INBOUND_QUEUE } from '../adapters/sqs/queue-definitions';
import { eventProcessors } from '../providers/registry';
import { PRESET_PREPARE_STEPS } from '../providers/prepare-registry';
import { sourceStepsFor } from '../core/sources/source-steps';
import { presetProcessors } from './providers/preset-processors';
import { inboundMessage } from '../core/outbound/inbound-message';
import { createPublisher } from './outbound/publisher';

export interface WorkerDeps extends Omit<ProcessInboundDeps, 'fanOut'> {
  connections: ConnectionStore;
  messenger: ConnectionMessenger;
  logger: Logger;
}

export function buildHandler(deps: WorkerDeps) {
  return middy(async (event: SQSEvent, context: Context) => {
    const connections = new BatchSubscriberCache(deps.connections);
    const processDeps: ProcessInboundDeps = {
      ...deps,
      fanOut: (stored) =>
        fanOutEvent(stored, {
          connections,
          messenger: deps.messenger,
          onPushError: (connectionId, error) => deps.logger.warn('push failed', { connectionId, error: error as Error }),
        }),
    };
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

const config = loadWorkerConfig();
const ablyTables = { ...loadAblyTables(), retentionDays: loadRetentionDays() };
const documentClient = createDocumentClient();
const logger = new Logger({ serviceName: 'hookhub-worker' });
const outbound = createPublisher(loadPublisherConfig(), documentClient, logger);

export const handler = buildHandler({
  store: new DynamoDbEventStore(documentClient, config.eventsTable, { retentionDays: config.retentionDays }),
  connections: new DynamoDbConnectionStore(documentClient, config.connectionsTable),
  messenger: new ApiGatewayConnectionMessenger(createManagementApiClient(config.websocketCallbackUrl)),
  stepsFor: sourceStepsFor({ config: config.sources, prepareSteps: PRESET_PREPARE_STEPS, presetProcessors: presetProcessors(ablyTables, documentClient), processors: eventProcessors }),
  now: () => new Date(),
  retentionDays: config.retentionDays,
  maxReceiveCount: INBOUND_QUEUE.maxReceiveCount,
  publish: (event) => outbound.publish(inboundMessage(event)),
  logger,
});
