/**
 * Where an endpoint points, for notices and the audit log: scheme, host and port only. A URL's path or query may be
 * a credential (Slack-style webhook paths), and notices travel to other endpoints and WebSocket clients.
 */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}
