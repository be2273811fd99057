/** WebSocket $connect: admit a client holding the admin key (`?token=`) and store its channel filter (`?channels=`). */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadRealtimeConfig } from '../config';
import { isAdminKey, type AdminKeyDigest } from '../core/auth/admin-key';
import { HookhubError } from '../core/errors';
import { openConnection } from '../core/realtime/connections';
import type { ConnectionStore } from '../core/ports';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoDbConnectionStore } from '../adapters/dynamodb/connection-store';
import { adminKeyDigestLoader } from '../adapters/secrets/admin-key-source';
import type { WebSocketRouteEvent } from './websocket/websocket-event';

export function buildHandler(deps: { connections: ConnectionStore; adminKey: () => Promise<AdminKeyDigest>; logger: Logger }) {
  return async (event: WebSocketRouteEvent): Promise<{ statusCode: number; body?: string }> => {
    const query = event.queryStringParameters ?? {};
    if (!isAdminKey(query.token, await deps.adminKey())) {
      deps.logger.info('connection refused: bad token');
      return { statusCode: 401, body: 'unauthorized' };
    }
    try {
      const { connectionId, connectedAt } = event.requestContext;
      const channels = await openConnection({ connectionId, connectedAtMs: connectedAt, channels: query.channels }, deps.connections);
      deps.logger.info('connected', { connectionId, channels });
      return { statusCode: 200 };
    } catch (error) {
      if (error instanceof HookhubError) return { statusCode: error.statusCode, body: error.message };
      throw error;
    }
  };
}

const config = loadRealtimeConfig();
export const handler = buildHandler({
  connections: new DynamoDbConnectionStore(createDocumentClient(), config.connectionsTable),
  adminKey: adminKeyDigestLoader(config.adminKey),
  logger: new Logger({ serviceName: 'hookhub-ws-connect' }),
});
