/**
 * The HTTP request of one delivery try, signed the Standard Webhooks way: `webhook-id` is the message id (the same
 * on every retry, so receivers can deduplicate), `webhook-timestamp` is this try's time, and `webhook-signature`
 * holds one `v1,` signature per active secret, so a receiver still on the old secret keeps verifying during rotation.
 */
import { emptyNameValueMap, type NameValueMap } from '../name-value-map';
import { signStandardWebhook } from '../verification/standard-webhooks';
import type { OutgoingRequest } from './outbound-ports';

export const DELIVERY_USER_AGENT = 'hookhub-webhooks/1.0';
/** What the attempt log and the API show in place of a custom header's value. */
export const REDACTED_HEADER_VALUE = '[redacted]';

export function buildDeliveryRequest(input: {
  url: string;
  messageId: string;
  timestampSeconds: number;
  /** The exact bytes sent and signed. */
  payload: string;
  /** Current secret first; see activeSecrets. */
  secrets: readonly string[];
  customHeaders: Record<string, string>;
  timeoutMs: number;
}): OutgoingRequest {
  if (input.secrets.length === 0) throw new Error(`no active secret to sign message ${input.messageId} with`);
  const signatures = input.secrets.map((secret) => signStandardWebhook(secret, input.messageId, input.timestampSeconds, input.payload));

  // A null-prototype map: a custom header may be called `__proto__` or `constructor` (both are HTTP tokens).
  const headers: NameValueMap = emptyNameValueMap();
  headers['content-type'] = 'application/json';
  headers['user-agent'] = DELIVERY_USER_AGENT;
  headers['webhook-id'] = input.messageId;
  headers['webhook-timestamp'] = String(input.timestampSeconds);
  headers['webhook-signature'] = signatures.join(' ');
  for (const [name, value] of Object.entries(input.customHeaders)) {
    const lowerName = name.toLowerCase();
    // endpoint-input.ts refuses these names; an older stored endpoint must still not override hookhub's own headers.
    if (Object.hasOwn(headers, lowerName)) continue;
    headers[lowerName] = value;
  }
  return { url: input.url, headers, body: input.payload, timeoutMs: input.timeoutMs };
}

/**
 * The request headers as the attempt log keeps them: custom header values replaced, since they often carry a
 * receiver's token. The signature headers stay: a signature is no secret, and a receiver debugging its check needs it.
 */
export function requestHeadersForLog(headers: Record<string, string>, customHeaderNames: readonly string[]): Record<string, string> {
  const custom = new Set(customHeaderNames.map((name) => name.toLowerCase()));
  const logged: NameValueMap = emptyNameValueMap();
  for (const [name, value] of Object.entries(headers)) {
    logged[name] = custom.has(name.toLowerCase()) ? REDACTED_HEADER_VALUE : value;
  }
  return logged;
}
