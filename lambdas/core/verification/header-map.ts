/** Request headers with lower-cased names; a repeated header is joined with commas, as API Gateway does. */
export type HeaderMap = Readonly<Record<string, string | undefined>>;

export function normalizeHeaders(headers: Record<string, string | string[] | undefined> | null | undefined): Record<string, string> {
  const normalized: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    normalized[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return normalized;
}
