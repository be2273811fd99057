/**
 * The outbound pieces built from configuration, once per cold start: the DynamoDB stores, the delivery queue, the
 * endpoint cache, the sender with its SSRF guard, operational notices, and `publish`. The management API and both
 * workers build theirs here, so each wires the same thing the same way. The local runtime passes its own delivery
 * queue (in process, as for ingest).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OutboundConfig } from '../../config';
import { EndpointDirectory } from '../../core/outbound/endpoint-directory';
import { opsNotifier, type OpsNotifier } from '../../core/outbound/ops-events';
import { publishMessage, type PublishInput, type PublishResult } from '../../core/outbound/publish-message';
import { SeenEventTypes } from '../../core/outbound/seen-event-types';
import type { AttemptDeps } from '../../core/outbound/attempt-delivery';
import type { DeliveryQueue, IdempotencyStore } from '../../core/outbound/outbound-ports';
import { parseAllowedTargets } from '../../core/outbound/target-address-policy';
import { pushToChannel } from '../../core/realtime/fan-out';
import { DynamoDbEndpointStore } from '../../adapters/dynamodb/endpoint-store';
import { DynamoDbMessageStore } from '../../adapters/dynamodb/message-store';
import { DynamoDbDeliveryLog } from '../../adapters/dynamodb/delivery-log';
import { DynamoDbEventTypeCatalog } from '../../adapters/dynamodb/event-type-catalog';
import { DynamoDbIdempotencyStore } from '../../adapters/dynamodb/idempotency-store';
import { DynamoDbConnectionStore } from '../../adapters/dynamodb/connection-store';
import { SqsDeliveryQueue } from '../../adapters/sqs/sqs-delivery-queue';
import { HttpWebhookSender, DnsTargetUrlGuard } from '../../adapters/http/webhook-sender';
import { ApiGatewayConnectionMessenger } from '../../adapters/apigw-management/apigw-connection-messenger';
import { createManagementApiClient } from '../../adapters/apigw-management/management-api-client';

export function createOutboundContext(config: OutboundConfig, documents: DynamoDBDocumentClient, logger: Logger, options: { queue?: DeliveryQueue; idempotencyTable?: string } = {}) {
  const endpointStore = new DynamoDbEndpointStore(documents, config.endpointsTable);
  const endpoints = new EndpointDirectory(endpointStore, config.endpointCacheMs);
  const messages = new DynamoDbMessageStore(documents, config.messagesTable);
  const log = new DynamoDbDeliveryLog(documents, { deliveriesTable: config.deliveriesTable, attemptsTable: config.attemptsTable, messagesTable: config.messagesTable });
  const catalog = new DynamoDbEventTypeCatalog(documents, config.eventTypesTable);
  const queue = options.queue ?? new SqsDeliveryQueue(new SQSClient({}), config.deliveryQueueUrl);
  const idempotency: IdempotencyStore | undefined = options.idempotencyTable ? new DynamoDbIdempotencyStore(documents, options.idempotencyTable) : undefined;
  const allowedTargets = parseAllowedTargets(config.allowPrivateTargets);
  const sender = new HttpWebhookSender({ allowedTargets, httpsOnly: config.httpsOnly });
  const urlGuard = new DnsTargetUrlGuard({ allowedTargets, httpsOnly: config.httpsOnly });
  const seenEventTypes = new SeenEventTypes(catalog, (error) => logger.warn('could not record a seen event type', { error: error as Error }));

  const publish = (input: PublishInput): Promise<PublishResult> =>
    publishMessage(input, { endpoints, messages, queue, idempotency, seenEventTypes, now: () => new Date(), retentionDays: config.retentionDays });

  const connections = new DynamoDbConnectionStore(documents, config.connectionsTable);
  const messenger = new ApiGatewayConnectionMessenger(createManagementApiClient(config.websocketCallbackUrl));
  const ops: OpsNotifier = opsNotifier({
    publish,
    push: (channel, frame) => pushToChannel(channel, frame, { connections, messenger }),
    now: () => new Date(),
    onError: (error, event) => logger.error('operational notice failed', { type: event.type, error: error as Error }),
  });
  const attemptDeps: AttemptDeps = {
    sender,
    now: () => new Date(),
    random: Math.random,
    timeoutMs: config.timeoutMs,
    retentionDays: config.retentionDays,
  };
  return { endpointStore, endpoints, messages, log, catalog, queue, idempotency, sender, urlGuard, publish, ops, attemptDeps, documents };
}

export type OutboundContext = ReturnType<typeof createOutboundContext>;
