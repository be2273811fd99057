/** Reads `a.b.c` from a parsed JSON payload; only string and number leaves count as values. */
export function readField(payload: unknown, path: string): string | undefined {
  let current: unknown = payload;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  if (typeof current === 'string' && current.length > 0) return current;
  if (typeof current === 'number' && Number.isFinite(current)) return String(current);
  return undefined;
}
