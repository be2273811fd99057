/** WebSocket $disconnect: forget the connection and its subscriptions. */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadRealtimeConfig } from '../config';
import type { ConnectionStore } from '../core/ports';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoDbConnectionStore } from '../adapters/dynamodb/connection-store';
import type { WebSocketRouteEvent } from './websocket/websocket-event';

export function buildHandler(deps: { connections: ConnectionStore; logger: Logger }) {
  return async (event: WebSocketRouteEvent) => {
    await deps.connections.remove(event.requestContext.connectionId);
    deps.logger.info('disconnected', { connectionId: event.requestContext.connectionId });
    return { statusCode: 200 };
  };
}

const config = loadRealtimeConfig();
export const handler = buildHandler({
  connections: new DynamoDbConnectionStore(createDocumentClient(), config.connectionsTable),
  logger: new Logger({ serviceName: 'hookhub-ws-disconnect' }),
});
