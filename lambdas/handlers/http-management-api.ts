/**
 * Management API of outbound webhooks (admin key, JSON): endpoints, messages, attempts, replay, the event catalog
 * and the audit log. The routes come from the shared route table (http/http-routes.ts); the table below must name
 * every one of them, which the compiler checks.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadManagementConfig } from '../config';
import { requireBearerAdminKey, type AdminKeyDigest } from '../core/auth/admin-key';
import { NotFoundError } from '../core/errors';
import type { DeliveryQueue } from '../core/outbound/outbound-ports';
import { createEndpoint, deleteEndpoint, getEndpoint, rotateEndpointSecret, testEndpoint, updateEndpoint } from '../core/outbound/endpoint-operations';
import { replaySince, retryAttempt, retryFailed } from '../core/outbound/delivery-operations';
import { endpointStats, getMessage, listAttempts, listAudit, listDeliveries, listEndpoints, listEventTypes, requireId } from '../core/outbound/management-queries';
import { toPublicEndpoint } from '../core/outbound/endpoint-input';
import type { Actor, ManagementDeps } from '../core/outbound/management-deps';
import { parsePublishRequest } from '../core/outbound/publish-request';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoDbAuditLog } from '../adapters/dynamodb/audit-log';
import { adminKeyDigestLoader } from '../adapters/secrets/admin-key-source';
import { jsonErrors } from './http/json-errors';
import { jsonResponse } from './http/json-response';
import { parseJsonBody } from './http/json-body';
import type { HTTP_ROUTES } from './http/http-routes';
import { createOutboundContext } from './outbound/outbound-context';

type ManagementRoute = Extract<(typeof HTTP_ROUTES)[number], { functionName: 'http-management-api' }>;
type RouteKeyOf<R> = R extends { method: infer M extends string; path: infer P extends string } ? `${M} ${P}` : never;
type ManagementRouteKey = RouteKeyOf<ManagementRoute>;
type Request = { event: APIGatewayProxyEventV2; actor: Actor; deps: ManagementDeps };
type Route = (request: Request) => Promise<APIGatewayProxyStructuredResultV2>;

const endpointId = (event: APIGatewayProxyEventV2) => requireId('ep', event.pathParameters?.id, 'endpoint');
const query = (event: APIGatewayProxyEventV2) => event.queryStringParameters ?? {};

const ROUTES: Record<ManagementRouteKey, Route> = {
  'POST /api/endpoints': async ({ event, actor, deps }) => jsonResponse(201, await createEndpoint(parseJsonBody(event), actor, deps)),
  'GET /api/endpoints': async ({ event, deps }) => jsonResponse(200, await listEndpoints(query(event), deps)),
  'GET /api/endpoints/{id}': async ({ event, deps }) => jsonResponse(200, toPublicEndpoint(await getEndpoint(endpointId(event), deps))),
  'PATCH /api/endpoints/{id}': async ({ event, actor, deps }) => jsonResponse(200, await updateEndpoint(endpointId(event), parseJsonBody(event), actor, deps)),
  'DELETE /api/endpoints/{id}': async ({ event, actor, deps }) => (await deleteEndpoint(endpointId(event), actor, deps), { statusCode: 204 }),
  'POST /api/endpoints/{id}/rotate-secret': async ({ event, actor, deps }) => jsonResponse(200, await rotateEndpointSecret(endpointId(event), actor, deps)),
  'POST /api/endpoints/{id}/test': async ({ event, actor, deps }) => jsonResponse(200, await testEndpoint(endpointId(event), actor, deps)),
  'GET /api/endpoints/{id}/attempts': async ({ event, deps }) => jsonResponse(200, await listAttempts(endpointId(event), query(event), deps)),
  'GET /api/endpoints/{id}/deliveries': async ({ event, deps }) => jsonResponse(200, await listDeliveries(endpointId(event), query(event), deps)),
  'GET /api/endpoints/{id}/stats': async ({ event, deps }) => jsonResponse(200, await endpointStats(endpointId(event), deps)),
  'POST /api/endpoints/{id}/retry-failed': async ({ event, actor, deps }) => jsonResponse(202, await retryFailed(endpointId(event), actor, deps)),
  'POST /api/endpoints/{id}/replay': async ({ event, actor, deps }) => jsonResponse(202, await replaySince(endpointId(event), parseJsonBody(event), actor, deps)),
  'POST /api/messages': async ({ event, deps }) => {
    const input = parsePublishRequest(parseJsonBody(event), event.headers['idempotency-key']);
    const published = await deps.publish({ ...input, source: 'app' });
    return jsonResponse(202, { id: published.id, ...(published.repeated ? { repeated: true } : { endpoints: published.queued }) });
  },
  'GET /api/messages/{id}': async ({ event, deps }) => jsonResponse(200, await getMessage(requireId('msg', event.pathParameters?.id, 'message'), deps)),
  'POST /api/attempts/{id}/retry': async ({ event, actor, deps }) => jsonResponse(202, await retryAttempt(requireId('atm', event.pathParameters?.id, 'attempt'), actor, deps)),
  'GET /api/event-types': async ({ deps }) => jsonResponse(200, await listEventTypes(deps)),
  'GET /api/audit': async ({ event, deps }) => jsonResponse(200, await listAudit(query(event), deps)),
};

export interface ManagementApiDeps {
  management: ManagementDeps;
  adminKey: () => Promise<AdminKeyDigest>;
  logger: Logger;
}

export function buildHandler(deps: ManagementApiDeps) {
  return middy(async (event: APIGatewayProxyEventV2) => {
    const adminKey = await deps.adminKey();
    requireBearerAdminKey(event.headers.authorization, adminKey);
    const route = ROUTES[event.routeKey as ManagementRouteKey];
    if (!route) throw new NotFoundError(`no route ${event.routeKey}`);
    const actor: Actor = {
      keyId: `admin:${adminKey.subarray(0, 4).toString('hex')}`,
      sourceIp: event.requestContext.http.sourceIp,
      userAgent: event.headers['user-agent'],
    };
    return route({ event, actor, deps: deps.management });
  })
    .use(injectLambdaContext(deps.logger))
    .use(jsonErrors(deps.logger));
}

const config = loadManagementConfig();

/** The function's dependencies, around a delivery queue (the local runtime passes its own, in process). */
export function managementDeps(queue?: DeliveryQueue): ManagementApiDeps {
  const logger = new Logger({ serviceName: 'hookhub-management-api' });
  const documents = createDocumentClient();
  const context = createOutboundContext(config, documents, logger, { queue, idempotencyTable: config.idempotencyTable });
  return {
    management: {
      ...context,
      audit: new DynamoDbAuditLog(documents, config.auditTable),
      declaredEventTypes: config.declaredEventTypes,
      attempt: context.attemptDeps,
      now: () => new Date(),
      retentionDays: config.retentionDays,
    },
    adminKey: adminKeyDigestLoader(config.adminKey),
    logger,
  };
}

export const handler = buildHandler(managementDeps());
