/**
 * The store-once path's wiring, shared by its two callers: the inbound worker (events from the queue) and the Ably
 * history sync (messages read from Ably's history go through exactly the same store, steps, push and publish, so a
 * message that arrives both ways is stored once and pushed once).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PublisherConfig } from '../../config';
import type { ProcessInboundDeps } from '../../core/events/process-inbound';
import type { ConnectionMessenger, ConnectionStore } from '../../core/ports';
import type { HookhubConfig } from '../../core/sources/source-definition';
import { sourceStepsFor } from '../../core/sources/source-steps';
import { fanOutEvent } from '../../core/realtime/fan-out';
import { BatchSubscriberCache } from '../../core/realtime/batch-subscriber-cache';
import { inboundMessage } from '../../core/outbound/inbound-message';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { DynamoDbConnectionStore } from '../../adapters/dynamodb/connection-store';
import { ApiGatewayConnectionMessenger } from '../../adapters/apigw-management/apigw-connection-messenger';
import { createManagementApiClient } from '../../adapters/apigw-management/management-api-client';
import { INBOUND_QUEUE } from '../../adapters/sqs/queue-definitions';
import { eventProcessors } from '../../providers/registry';
import { PRESET_PREPARE_STEPS } from '../../providers/prepare-registry';
import { createPublisher } from '../outbound/publisher';
import { presetProcessors } from '../providers/preset-processors';

/** What a store-once caller holds for its lifetime; `forBatch` adds the push with a subscriber cache per batch. */
export interface StoreOnceWiring extends Omit<ProcessInboundDeps, 'fanOut'> {
  connections: ConnectionStore;
  messenger: ConnectionMessenger;
  logger: Logger;
}

export interface StoreOnceSettings {
  sources: HookhubConfig;
  eventsTable: string;
  connectionsTable: string;
  websocketCallbackUrl: string;
  retentionDays: number;
  ablyMessagesTable: string;
  ablyStateTable: string;
  publisher: PublisherConfig;
}

export function createStoreOnceWiring(settings: StoreOnceSettings, documentClient: DynamoDBDocumentClient, logger: Logger): StoreOnceWiring {
  const outbound = createPublisher(settings.publisher, documentClient, logger);
  return {
    store: new DynamoDbEventStore(documentClient, settings.eventsTable, { retentionDays: settings.retentionDays }),
    connections: new DynamoDbConnectionStore(documentClient, settings.connectionsTable),
    messenger: new ApiGatewayConnectionMessenger(createManagementApiClient(settings.websocketCallbackUrl)),
    stepsFor: sourceStepsFor({
      config: settings.sources,
      prepareSteps: PRESET_PREPARE_STEPS,
      presetProcessors: presetProcessors(settings, documentClient),
      processors: eventProcessors,
    }),
    now: () => new Date(),
    retentionDays: settings.retentionDays,
    maxReceiveCount: INBOUND_QUEUE.maxReceiveCount,
    publish: (event) => outbound.publish(inboundMessage(event)),
    logger,
  };
}

/** The deps of one batch: pushes look subscribers up once per channel for the whole batch. */
export function forBatch(wiring: StoreOnceWiring): ProcessInboundDeps {
  const connections = new BatchSubscriberCache(wiring.connections);
  return {
    ...wiring,
    fanOut: (stored) =>
      fanOutEvent(stored, {
        connections,
        messenger: wiring.messenger,
        onPushError: (connectionId, error) => wiring.logger.warn('push failed', { connectionId, error: error as Error }),
      }),
  };
}
