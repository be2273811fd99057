/**
 * The path and query of an HTTP request target, taken as sent. `new URL()` would throw on some targets Node's parser
 * accepts (`//[`), read `//host/x` as a host, and resolve `/hooks/../api/events` to another route: API Gateway does
 * none of that, so the local gateway must not either.
 */
export interface RequestTarget {
  path: string;
  rawQueryString: string;
  searchParams: URLSearchParams;
}

/** Undefined for a target that is not origin-form (`/path?query`): the gateway answers 400. */
export function parseRequestTarget(target: string | undefined): RequestTarget | undefined {
  if (!target || !target.startsWith('/') || target.startsWith('//')) return undefined;
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1);
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return undefined;
  return { path, rawQueryString, searchParams: new URLSearchParams(rawQueryString) };
}
