/**
 * The HTTP API's routes as data. The local gateway serves them; the `$default` route (a request no route matches)
 * answers from them: 405 with `Allow` when the path exists under another method, else 404, both as
 * `{"error", "message"}`, on AWS and locally alike. The stack's route declarations are checked against this table
 * in test/infra.
 */
import { MethodNotAllowedError, NotFoundError, type HookhubError } from '../../core/errors';

export type HttpFunctionName = 'http-ingest' | 'http-read-api' | 'http-management-api' | 'http-ably-api';

export interface HttpRouteDefinition {
  /** `ANY` lets the handler answer a wrong method itself (the ingest route's JSON 405). */
  method: 'ANY' | 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** API Gateway's path syntax: `{name}` matches one non-empty segment. */
  path: string;
  functionName: HttpFunctionName;
}

export const HTTP_ROUTES = [
  { method: 'ANY', path: '/hooks/{source}', functionName: 'http-ingest' },
  { method: 'GET', path: '/api/events', functionName: 'http-read-api' },
  { method: 'GET', path: '/api/events/{id}', functionName: 'http-read-api' },
  { method: 'GET', path: '/health', functionName: 'http-read-api' },
  // Outbound webhooks: endpoints, messages, attempts, catalog, audit (lambdas/handlers/http-management-api.ts).
  { method: 'POST', path: '/api/endpoints', functionName: 'http-management-api' },
  { method: 'GET', path: '/api/endpoints', functionName: 'http-management-api' },
  { method: 'GET', path: '/api/endpoints/{id}', functionName: 'http-management-api' },
  { method: 'PATCH', path: '/api/endpoints/{id}', functionName: 'http-management-api' },
  { method: 'DELETE', path: '/api/endpoints/{id}', functionName: 'http-management-api' },
  { method: 'POST', path: '/api/endpoints/{id}/rotate-secret', functionName: 'http-management-api' },
  { method: 'POST', path: '/api/endpoints/{id}/test', functionName: 'http-management-api' },
  { method: 'GET', path: '/api/endpoints/{id}/attempts', functionName: 'http-management-api' },
  { method: 'GET', path: '/api/endpoints/{id}/deliveries', functionName: 'http-management-api' },
  { method: 'GET', path: '/api/endpoints/{id}/stats', functionName: 'http-management-api' },
  { method: 'POST', path: '/api/endpoints/{id}/retry-failed', functionName: 'http-management-api' },
  { method: 'POST', path: '/api/endpoints/{id}/replay', functionName: 'http-management-api' },
  { method: 'POST', path: '/api/messages', functionName: 'http-management-api' },
  { method: 'GET', path: '/api/messages/{id}', functionName: 'http-management-api' },
  { method: 'POST', path: '/api/attempts/{id}/retry', functionName: 'http-management-api' },
  { method: 'GET', path: '/api/event-types', functionName: 'http-management-api' },
  { method: 'GET', path: '/api/audit', functionName: 'http-management-api' },
  // Ably: the message log and the history sync (lambdas/handlers/http-ably-api.ts).
  { method: 'GET', path: '/api/ably/messages', functionName: 'http-ably-api' },
  { method: 'GET', path: '/api/ably/stats', functionName: 'http-ably-api' },
  { method: 'POST', path: '/api/sync/ably', functionName: 'http-ably-api' },
  { method: 'GET', path: '/api/sync/runs', functionName: 'http-ably-api' },
] as const satisfies readonly HttpRouteDefinition[];

/** The function that answers `$default`: the read API, which already answers JSON errors and needs no new Lambda. */
export const DEFAULT_ROUTE_FUNCTION: HttpFunctionName = 'http-read-api';

export function routeKeyOf(route: Pick<HttpRouteDefinition, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** Path parameters if `path` matches `pattern`, else undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const patternParts = pattern.split('/');
  const pathParts = path.split('/');
  if (patternParts.length !== pathParts.length) return undefined;
  const parameters: Record<string, string> = {};
  for (let index = 0; index < patternParts.length; index++) {
    const expected = patternParts[index]!;
    const actual = pathParts[index]!;
    if (expected.startsWith('{') && expected.endsWith('}')) {
      if (actual === '') return undefined;
      try {
        parameters[expected.slice(1, -1)] = decodeURIComponent(actual);
      } catch {
        return undefined; // malformed percent-encoding: no route matches, as API Gateway answers 404
      }
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return parameters;
}

/** The refusal for a request no route took: 405 naming the methods the path has, or 404. */
export function unmatchedRouteError(method: string, path: string, routes: readonly { method: string; path: string }[] = HTTP_ROUTES): HookhubError {
  const allowed: string[] = [...new Set(routes.filter((route) => matchPath(route.path, path)).map((route) => route.method))];
  if (allowed.length > 0 && !allowed.includes('ANY')) return new MethodNotAllowedError(method, allowed);
  // The path is the client's own, echoed in JSON; cut so a long one cannot bloat the answer.
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return new NotFoundError(`no route for ${method} ${shown}`);
}
