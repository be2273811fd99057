/** WebSocket $default: subscribe/unsubscribe commands; the reply (or error) is pushed back on the same socket. */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadRealtimeConfig } from '../config';
import { HookhubError } from '../core/errors';
import { applyClientCommand, parseClientCommand } from '../core/realtime/connections';
import type { ConnectionMessenger, ConnectionStore } from '../core/ports';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoDbConnectionStore } from '../adapters/dynamodb/connection-store';
import { ApiGatewayConnectionMessenger } from '../adapters/apigw-management/apigw-connection-messenger';
import { createManagementApiClient } from '../adapters/apigw-management/management-api-client';
import type { WebSocketRouteEvent } from './websocket/websocket-event';

export function buildHandler(deps: { connections: ConnectionStore; messenger: ConnectionMessenger; logger: Logger }) {
  return async (event: WebSocketRouteEvent) => {
    const { connectionId, connectedAt } = event.requestContext;
    let reply: unknown;
    try {
      const command = parseClientCommand(event.body);
      await applyClientCommand(command, { connectionId, connectedAtMs: connectedAt }, deps.connections);
      reply = { type: command.action === 'subscribe' ? 'subscribed' : 'unsubscribed', channels: command.channels };
    } catch (error) {
      if (!(error instanceof HookhubError)) throw error;
      reply = { type: 'error', error: error.code, message: error.message };
    }
    await deps.messenger.push(connectionId, JSON.stringify(reply));
    return { statusCode: 200 };
  };
}

const config = loadRealtimeConfig();
export const handler = buildHandler({
  connections: new DynamoDbConnectionStore(createDocumentClient(), config.connectionsTable),
  messenger: new ApiGatewayConnectionMessenger(createManagementApiClient(config.websocketCallbackUrl)),
  logger: new Logger({ serviceName: 'hookhub-ws-default' }),
});
