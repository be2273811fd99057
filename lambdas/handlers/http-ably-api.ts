/**
 * The Ably API (admin key, JSON): the message log (GET /api/ably/messages), its counters and the last sync
 * (GET /api/ably/stats), a history sync on demand (POST /api/sync/ably) and the sync runs (GET /api/sync/runs).
 * The routes come from the shared route table (http/http-routes.ts); the table below must name every one of them,
 * which the compiler checks.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadAblyApiConfig } from '../config';
import { requireBearerAdminKey, type AdminKeyDigest } from '../core/auth/admin-key';
import { NotFoundError } from '../core/errors';
import type { HookhubConfig } from '../core/sources/source-definition';
import type { AblyMessageLog, SyncRun, SyncStateStore } from '../providers/ably/ably-ports';
import {
  messagePageResponse,
  parseMessageQuery,
  parseRunsQuery,
  parseStatsQuery,
  parseSyncRequest,
  readAblyStats,
} from '../providers/ably/message-log-queries';
import { adminKeyDigestLoader } from '../adapters/secrets/admin-key-source';
import { jsonErrors } from './http/json-errors';
import { jsonResponse } from './http/json-response';
import { parseJsonBody } from './http/json-body';
import type { HTTP_ROUTES } from './http/http-routes';
import { createAblyContext } from './ably/ably-context';

type AblyRoute = Extract<(typeof HTTP_ROUTES)[number], { functionName: 'http-ably-api' }>;
type RouteKeyOf<R> = R extends { method: infer M extends string; path: infer P extends string } ? `${M} ${P}` : never;
type AblyRouteKey = RouteKeyOf<AblyRoute>;
type Route = (event: APIGatewayProxyEventV2, deps: AblyApiDeps) => Promise<APIGatewayProxyStructuredResultV2>;

export interface AblyApiDeps {
  /** The sources: which are Ably sources, for `source=` and its default. */
  config: HookhubConfig;
  messageLog: AblyMessageLog;
  syncState: SyncStateStore;
  /** One manual history sync, answered when it ends (the run says ok, partial or failed). */
  runSync: (request: { sourceId: string; channels?: string[]; sinceMs?: number }) => Promise<SyncRun>;
  adminKey: () => Promise<AdminKeyDigest>;
  logger: Logger;
}

const query = (event: APIGatewayProxyEventV2) => event.queryStringParameters ?? {};

const ROUTES: Record<AblyRouteKey, Route> = {
  'GET /api/ably/messages': async (event, deps) => jsonResponse(200, messagePageResponse(await deps.messageLog.list(parseMessageQuery(query(event), deps.config)))),
  'GET /api/ably/stats': async (event, deps) => jsonResponse(200, await readAblyStats(parseStatsQuery(query(event), deps.config).source, deps)),
  // 200 whatever the outcome: the request was carried out, and the run reports what it managed.
  'POST /api/sync/ably': async (event, deps) => jsonResponse(200, await deps.runSync(parseSyncRequest(parseJsonBody(event), deps.config))),
  'GET /api/sync/runs': async (event, deps) => jsonResponse(200, { runs: await deps.syncState.listRuns(parseRunsQuery(query(event), deps.config)) }),
};

export function buildHandler(deps: AblyApiDeps) {
  return middy(async (event: APIGatewayProxyEventV2) => {
    requireBearerAdminKey(event.headers.authorization, await deps.adminKey());
    const route = Object.hasOwn(ROUTES, event.routeKey) ? ROUTES[event.routeKey as AblyRouteKey] : undefined;
    if (!route) throw new NotFoundError(`no route ${event.routeKey}`);
    return route(event, deps);
  })
    .use(injectLambdaContext(deps.logger))
    .use(jsonErrors(deps.logger));
}

/** API Gateway's HTTP API answers within 30 s: a manual sync stops starting pages after 25 s, and the next run resumes. */
const MANUAL_SYNC_TIME_LIMIT_MS = 25_000;

const logger = new Logger({ serviceName: 'hookhub-ably-api' });
const config = loadAblyApiConfig();
const context = createAblyContext(config, logger);

export const handler = buildHandler({
  config: config.sources,
  messageLog: context.messageLog,
  syncState: context.syncState,
  runSync: (request) => context.runSync({ ...request, trigger: 'manual', timeLimitMs: MANUAL_SYNC_TIME_LIMIT_MS }),
  adminKey: adminKeyDigestLoader(config.adminKey),
  logger,
});
