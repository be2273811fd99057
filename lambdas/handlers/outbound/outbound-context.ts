/**
 * The outbound pieces built from configuration, once per cold start: the publisher (publisher.ts), the delivery
 * log, the sender with its SSRF guard, and operational notices. The management API and the delivery worker build
 * theirs here, so each wires the same thing the same way. The local runtime passes its own delivery queue (in
 * process, as for ingest).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OutboundConfig } from '../../config';
import { createPublisher } from './publisher';
import { opsNotifier, type OpsNotifier } from '../../core/outbound/ops-events';
import type { AttemptDeps } from '../../core/outbound/attempt-delivery';
import type { DeliveryQueue } from '../../core/outbound/outbound-ports';
import { parseAllowedTargets } from '../../core/outbound/target-address-policy';
import { pushToChannel } from '../../core/realtime/fan-out';
import { DynamoDbDeliveryLog } from '../../adapters/dynamodb/delivery-log';
import { DynamoDbConnectionStore } from '../../adapters/dynamodb/connection-store';
import { HttpWebhookSender, DnsTargetUrlGuard } from '../../adapters/http/webhook-sender';
import { ApiGatewayConnectionMessenger } from '../../adapters/apigw-management/apigw-connection-messenger';
import { createManagementApiClient } from '../../adapters/apigw-management/management-api-client';

export function createOutboundContext(config: OutboundConfig, documents: DynamoDBDocumentClient, logger: Logger, options: { queue?: DeliveryQueue; idempotencyTable?: string } = {}) {
  const publisher = createPublisher(config, documents, logger, options);
  const { endpointStore, endpoints, messages, catalog, queue, idempotency, publish } = publisher;
  const log = new DynamoDbDeliveryLog(documents, { deliveriesTable: config.deliveriesTable, attemptsTable: config.attemptsTable, messagesTable: config.messagesTable });
  const allowedTargets = parseAllowedTargets(config.allowPrivateTargets);
  const sender = new HttpWebhookSender({ allowedTargets, httpsOnly: config.httpsOnly });
  const urlGuard = new DnsTargetUrlGuard({ allowedTargets, httpsOnly: config.httpsOnly });

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
