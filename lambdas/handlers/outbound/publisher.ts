/**
 * The publishing half of the outbound pieces, built from configuration once per cold start: the endpoint cache, the
 * message and event type stores, the delivery queue and `publish`. The inbound worker has only this (each processed
 * event is published as a message); the management API and the delivery worker get it through outbound-context.ts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PublisherConfig } from '../../config';
import { EndpointDirectory } from '../../core/outbound/endpoint-directory';
import { publishMessage, type PublishInput, type PublishResult } from '../../core/outbound/publish-message';
import { SeenEventTypes } from '../../core/outbound/seen-event-types';
import type { DeliveryQueue, IdempotencyStore } from '../../core/outbound/outbound-ports';
import { DynamoDbEndpointStore } from '../../adapters/dynamodb/endpoint-store';
import { DynamoDbMessageStore } from '../../adapters/dynamodb/message-store';
import { DynamoDbEventTypeCatalog } from '../../adapters/dynamodb/event-type-catalog';
import { DynamoDbIdempotencyStore } from '../../adapters/dynamodb/idempotency-store';
import { SqsDeliveryQueue } from '../../adapters/sqs/sqs-delivery-queue';

/** What publishes messages: the endpoint cache, the message and event type stores, the queue, `publish`. */
export function createPublisher(config: PublisherConfig, documents: DynamoDBDocumentClient, logger: Logger, options: { queue?: DeliveryQueue; idempotencyTable?: string } = {}) {
  const endpointStore = new DynamoDbEndpointStore(documents, config.endpointsTable);
  const endpoints = new EndpointDirectory(endpointStore, config.endpointCacheMs);
  const messages = new DynamoDbMessageStore(documents, config.messagesTable);
  const catalog = new DynamoDbEventTypeCatalog(documents, config.eventTypesTable);
  const queue = options.queue ?? new SqsDeliveryQueue(new SQSClient({}), config.deliveryQueueUrl);
  const idempotency: IdempotencyStore | undefined = options.idempotencyTable ? new DynamoDbIdempotencyStore(documents, options.idempotencyTable) : undefined;
  const seenEventTypes = new SeenEventTypes(catalog, (error) => logger.warn('could not record a seen event type', { error: error as Error }));
  const publish = (input: PublishInput): Promise<PublishResult> =>
    publishMessage(input, { endpoints, messages, queue, idempotency, seenEventTypes, now: () => new Date(), retentionDays: config.retentionDays });
  return { endpointStore, endpoints, messages, catalog, queue, idempotency, publish };
}

