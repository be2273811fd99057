import { nameValueMapOf, type NameValueMap } from '../name-value-map';

/** Request headers with lower-cased names; a repeated header is joined with commas, as API Gateway does. */
export type HeaderMap = Readonly<Record<string, string | undefined>>;

/** Builds the map on a null prototype (see name-value-map.ts): any header name, `__proto__` included, is just a name. */
export function normalizeHeaders(headers: Record<string, string | string[] | undefined> | null | undefined): NameValueMap {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    pairs.push([name, Array.isArray(value) ? value.join(',') : value]);
  }
  return nameValueMapOf(pairs, (name) => name.toLowerCase());
}

/** Node's `rawHeaders` ([name, value, name, value, ...]): every header as sent, where `request.headers` drops some. */
export function headersFromRawPairs(rawHeaders: readonly string[]): NameValueMap {
  const pairs: [string, string][] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) pairs.push([rawHeaders[index]!, rawHeaders[index + 1]!]);
  return nameValueMapOf(pairs, (name) => name.toLowerCase());
}
