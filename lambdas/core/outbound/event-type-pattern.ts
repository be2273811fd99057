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

/** The source of hookhub's own operational events (`endpoint.disabled`, ...). */
export const OPERATIONAL_SOURCE = 'hookhub';

/**
 * Sources empty = any source. Operational events go only to an endpoint that asks for them by name: a pattern
 * other than `*` that matches (`endpoint.*`, `message.attempt.exhausted`) or `hookhub` in its sources. An endpoint
 * that takes every application event would otherwise also get hookhub's notices about itself, which no receiver
 * written for the application's events expects.
 */
export function endpointMatches(
  endpoint: Pick<Endpoint, 'eventTypes' | 'sources'>,
  message: { eventType: string; source: string },
): boolean {
  if (endpoint.sources.length > 0 && !endpoint.sources.includes(message.source)) return false;
  if (message.source === OPERATIONAL_SOURCE && !endpoint.sources.includes(OPERATIONAL_SOURCE)) {
    return endpoint.eventTypes.some((pattern) => pattern !== EVERY_TYPE && patternMatches(pattern, message.eventType));
  }
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
