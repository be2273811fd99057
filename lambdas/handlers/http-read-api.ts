/**
 * Read API: GET /api/events, GET /api/events/{id}, GET /health, all behind the admin key (Bearer); and the HTTP
 * API's `$default` route, which answers an unmatched request 404 or 405 in hookhub's error shape.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadReadApiConfig } from '../config';
import { requireBearerAdminKey, type AdminKeyDigest } from '../core/auth/admin-key';
import { NotFoundError } from '../core/errors';
import { parseEventListQuery } from '../core/events/list-events';
import { toPublicEvent } from '../core/events/inbound-event';
import { fitToResponseBudget } from '../core/events/list-response-budget';
import { checkHealth, deadLetterQueueHealth, type HealthProbe } from '../core/health';
import type { EventStore } from '../core/ports';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoDbEventStore } from '../adapters/dynamodb/event-store';
import { adminKeyDigestLoader } from '../adapters/secrets/admin-key-source';
import { queueDepth } from '../adapters/sqs/queue-depth';
import { jsonErrors } from './http/json-errors';
import { jsonResponse } from './http/json-response';
import { unmatchedRouteError } from './http/http-routes';

export interface ReadApiDeps {
  events: EventStore;
  healthProbes: HealthProbe[];
  adminKey: () => Promise<AdminKeyDigest>;
  logger: Logger;
}

export function buildHandler(deps: ReadApiDeps) {
  return middy(async (event: APIGatewayProxyEventV2) => {
    // The API's `$default` route: a request no route matched. Answered before the key check, as API Gateway would.
    if (event.routeKey === '$default') throw unmatchedRouteError(event.requestContext.http.method, event.rawPath);
    requireBearerAdminKey(event.headers.authorization, await deps.adminKey());
    switch (event.routeKey) {
      case 'GET /api/events': {
        const page = await deps.events.list(parseEventListQuery(event.queryStringParameters ?? {}));
        return jsonResponse(200, { events: fitToResponseBudget(page.events.map(toPublicEvent)), cursor: page.cursor ?? null });
      }
      case 'GET /api/events/{id}': {
        const id = event.pathParameters?.id ?? '';
        const stored = /^evt_[0-9a-f]{32}$/.test(id) ? await deps.events.get(id) : undefined;
        if (!stored) throw new NotFoundError(`no event with id '${id}'`);
        return jsonResponse(200, toPublicEvent(stored));
      }
      case 'GET /health': {
        const report = await checkHealth(deps.healthProbes);
        return jsonResponse(report.status === 'ok' ? 200 : 503, report);
      }
      default:
        throw new NotFoundError(`no route ${event.routeKey}`);
    }
  })
    .use(injectLambdaContext(deps.logger))
    .use(jsonErrors(deps.logger));
}

const config = loadReadApiConfig();
const events = new DynamoDbEventStore(createDocumentClient(), config.eventsTable, { retentionDays: config.retentionDays });
const sqs = new SQSClient({});
export const handler = buildHandler({
  events,
  healthProbes: [
    { name: 'eventStore', check: async () => (await events.get('evt_00000000000000000000000000000000'), {}) },
    { name: 'inboundQueue', check: () => queueDepth(sqs, config.inboundQueueUrl) },
    { name: 'deadLetterQueue', check: async () => deadLetterQueueHealth(await queueDepth(sqs, config.deadLetterQueueUrl)) },
  ],
  adminKey: adminKeyDigestLoader(config.adminKey),
  logger: new Logger({ serviceName: 'hookhub-read-api' }),
});
