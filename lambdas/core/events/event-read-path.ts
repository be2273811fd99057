/** The read API's `GET /api/events/{id}`, relative to the HTTP API's base URL: where a client fetches a payload it was not sent. */
export function eventReadPath(eventId: string): string {
  return `/api/events/${encodeURIComponent(eventId)}`;
}
