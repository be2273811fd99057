#!/usr/bin/env -S npx tsx
/**
 * `npm run send -- <source> '<json>'`: signs a payload the way the source expects and POSTs it to the local runtime.
 * HOOKHUB_URL overrides the target (default http://127.0.0.1:$PORT). It reads the source's secret from the same
 * variable the runtime does (the demo source falls back to the same development secret). For an `ably` source the
 * JSON is one message's data, sent as Ably sends it: a signed batch of one message on channel ABLY_CHANNEL (default
 * `smartadmin-status`) named ABLY_MESSAGE_NAME (default `status-update`).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { applyDevelopmentDefaults, localHttpUrl } from '../lib/local/local-settings';
import { loadConfigFile } from '../lib/config-file';
import { findSource } from '../lambdas/core/sources/source-definition';
import { signStandardWebhook } from '../lambdas/core/verification/standard-webhooks';
import { computeHmac } from '../lambdas/core/verification/hmac-signature';
import { EnvSecretProvider } from '../lambdas/adapters/secrets/env-secret-provider';

async function main(): Promise<void> {
  const [sourceId = 'demo', body = JSON.stringify({ type: 'demo.hello', hello: 'world', sentAt: new Date().toISOString() })] = process.argv.slice(2);
  applyDevelopmentDefaults();
  const source = findSource(loadConfigFile(), sourceId);
  if (!source) throw new Error(`no source '${sourceId}' in the config`);
  const [secret] = source.secret ? await new EnvSecretProvider().secretsFor(source.secret) : [];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const rawBody = Buffer.from(source.preset === 'ably' ? ablyBatchOf(body) : body);
  const timestamp = Math.floor(Date.now() / 1000);
  const verification = source.verification;
  if (verification.scheme !== 'none' && !secret) throw new Error(`source '${sourceId}' has no secret in its env variable ${source.secret?.env ?? ''}`);
  if (verification.scheme === 'standard-webhooks') {
    const id = `msg_${randomUUID().replaceAll('-', '')}`;
    Object.assign(headers, { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(secret!, id, timestamp, rawBody) });
  } else if (verification.scheme === 'hmac') {
    const signedTimestamp = verification.timestampHeader ? String(timestamp) : undefined;
    if (verification.timestampHeader) headers[verification.timestampHeader] = String(timestamp);
    headers[verification.header] = verification.prefix + computeHmac(verification, secret!, rawBody, signedTimestamp).toString(verification.encoding);
  } else if (verification.scheme === 'token') {
    headers[verification.header] = secret!;
  } else if (source.preset === 'ably') {
    // The API key is `keyName:keySecret`; Ably names the key and signs the body with its secret.
    const [keyName = '', keySecret = ''] = secret!.split(/:(.*)/s);
    Object.assign(headers, { 'x-ably-key': keyName, 'x-ably-signature': createHmac('sha256', keySecret).update(rawBody).digest('base64') });
  }

  const baseUrl = localHttpUrl();
  if (!URL.canParse(baseUrl)) throw new Error(`HOOKHUB_URL is "${baseUrl}"; it must be a URL such as http://127.0.0.1:3000`);
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/hooks/${sourceId}`, { method: 'POST', headers, body: rawBody, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a bad URL) is in its cause.
    const cause = (error as Error).cause as NodeJS.ErrnoException | undefined;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(`cannot reach ${baseUrl} (${reason}); is the runtime running (npm start)? HOOKHUB_URL or PORT tell send where it listens`);
  }
  console.log(`${response.status} ${await response.text()}`);
  if (!response.ok) process.exitCode = 1;
}

/** One channel message in Ably's batch webhook form, its data JSON-encoded as the Ably SDKs send objects. */
function ablyBatchOf(data: string): string {
  const timestamp = Date.now();
  const message = { id: `send-${randomUUID()}:0`, name: process.env.ABLY_MESSAGE_NAME || 'status-update', clientId: 'hookhub-send', connectionId: 'send', timestamp, data, encoding: 'json' };
  const channelId = process.env.ABLY_CHANNEL || 'smartadmin-status';
  return JSON.stringify({ items: [{ webhookId: randomUUID(), source: 'channel.message', serial: `${timestamp}`, timestamp, name: 'channel.message', data: { channelId, site: 'local', messages: [message] } }] });
}

main().catch((error: unknown) => {
  console.error(`send: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
