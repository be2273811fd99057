/**
 * String maps keyed by names a client chooses: request headers, query parameters. They are built on a null
 * prototype. On a plain object, `constructor`, `toString` or `hasOwnProperty` read as inherited functions when the
 * client did not send them (and a configured header of that name would look present), and assigning `__proto__`
 * replaces the prototype instead of storing a value, so that header would vanish.
 */
export type NameValueMap = Record<string, string>;

export function emptyNameValueMap(): NameValueMap {
  return Object.create(null) as NameValueMap;
}

/** Repeated names are joined with commas, as API Gateway does for headers and query strings (payload 2.0). */
export function nameValueMapOf(pairs: Iterable<readonly [string, string]>, normalizeName: (name: string) => string = (name) => name): NameValueMap {
  const map = emptyNameValueMap();
  for (const [rawName, value] of pairs) {
    const name = normalizeName(rawName);
    map[name] = Object.hasOwn(map, name) ? `${map[name]},${value}` : value;
  }
  return map;
}
