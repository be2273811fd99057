/**
 * Which messages an endpoint receives: its event type patterns and its sources. Patterns are exact names
 * (`project.created`), a prefix wildcard (`ably.*`) or `*`; endpoint-input.ts checks their shape when they are set.
 */
import type { Endpoint } from './outbound-model';

const EVERY_TYPE = '*';
const WILDCARD_SUFFIX = '.*';

/** An empty list means every type, as `*` does. `a.*` needs at least one more segment: not `a`, not `ab.c`. */
export function matchesEventType(patterns: readonly string[], eventType: string): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((pattern) => patternMatches(pattern, eventType));
}

/** Sources empty = any source. */
export function endpointMatches(
  endpoint: Pick<Endpoint, 'eventTypes' | 'sources'>,
  message: { eventType: string; source: string },
): boolean {
  if (endpoint.sources.length > 0 && !endpoint.sources.includes(message.source)) return false;
  return matchesEventType(endpoint.eventTypes, message.eventType);
}

function patternMatches(pattern: string, eventType: string): boolean {
  if (pattern === EVERY_TYPE) return true;
  if (pattern.endsWith(WILDCARD_SUFFIX)) {
    // Keep the dot in the prefix, so `a.*` asks for `a.` and a non-empty rest.
    const prefix = pattern.slice(0, -1);
    return eventType.length > prefix.length && eventType.startsWith(prefix);
  }
  return pattern === eventType;
}
