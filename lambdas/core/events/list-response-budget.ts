/**
 * A page of events must fit one HTTP response: Lambda refuses a response over 6 MB (API Gateway answers 500), and a
 * page of 100 events may hold up to 100 bodies of 252 KiB. Rather than a page that fails for as long as such events
 * are kept, payloads are included newest first until the budget is spent; the rest of the page is listed with
 * `payloadOmitted: true` and the path that serves each one whole, as WebSocket pushes do for large events.
 */
import { eventReadPath } from './event-read-path';
import type { PublicEvent } from './inbound-event';

/** Under Lambda's 6 MB with room for the page's envelope, the event metadata and base64 of the response itself. */
export const LIST_RESPONSE_BUDGET_BYTES = 4 * 1024 * 1024;

export type ListedEvent = PublicEvent | (Omit<PublicEvent, 'payload'> & { payloadOmitted: true; payloadPath: string });

export function fitToResponseBudget(events: readonly PublicEvent[], budgetBytes = LIST_RESPONSE_BUDGET_BYTES): ListedEvent[] {
  // Every event's metadata is listed whatever happens (headers can be tens of KiB), so it is counted first and
  // payloads share what is left.
  const metadataBytes = events.reduce((sum, { payload: _payload, ...metadata }) => sum + Buffer.byteLength(JSON.stringify(metadata), 'utf8'), 0);
  let payloadBudget = budgetBytes - metadataBytes;
  return events.map((event) => {
    const { payload, ...withoutPayload } = event;
    const payloadBytes = Buffer.byteLength(JSON.stringify(payload) ?? '', 'utf8');
    if (payloadBytes <= payloadBudget) {
      payloadBudget -= payloadBytes;
      return event;
    }
    payloadBudget = -1; // newest first: once one payload is omitted, every older one is too
    return { ...withoutPayload, payloadOmitted: true as const, payloadPath: eventReadPath(event.id) };
  });
}
