/**
 * Ingest use case: decide whether a webhook request is accepted and turn it into the event(s) to queue.
 * Checks run cheapest first so a flood of wrong requests costs little: method and size (before the secrets are
 * even loaded), signature, then body parsing. The handler queues what this returns; the queue adapter enforces
 * the queue's own message-size limit.
 */
import type { SourceDefinition } from '../sources/source-definition';
import { MalformedPayloadError, MethodNotAllowedError, NestingTooDeepError, PayloadTooLargeError } from '../errors';
import { verifyRequest } from '../verification/verify-request';
import type { HeaderMap } from '../verification/header-map';
import { emptyNameValueMap, type NameValueMap } from '../name-value-map';
import { contentHashId, eventIdFor } from './event-id';
import type { PayloadFormat, QueuedEvent } from './inbound-event';
import { readField } from './payload-fields';
import { withoutByteOrderMark } from './byte-order-mark';
import { exceedsNestingLimit, MAX_JSON_NESTING_DEPTH } from './json-nesting';
import { isValidChannelName } from '../realtime/channels';

/** Default limit on the body as the client sent it (its bytes, before any decoding); config.ts caps the setting. */
export const DEFAULT_MAX_BODY_BYTES = 240 * 1024;

/** Never kept: transport noise, and anything that may carry a credential or a signature made with one. */
const DROPPED_HEADERS = new Set(['host', 'content-length', 'connection']);
const CREDENTIAL_HEADER = /authorization|cookie|signature|token|secret|api-?key|password|^x-amzn-/i;

export interface InboundRequest {
  method: string;
  headers: HeaderMap;
  rawBody: Buffer;
  receivedAt: Date;
  requestId: string;
}

export async function acceptInbound(input: {
  source: SourceDefinition;
  request: InboundRequest;
  /** Loaded only once the request has passed the checks that need no secret. */
  loadSecrets: () => Promise<readonly string[]>;
  maxBodyBytes: number;
}): Promise<QueuedEvent[]> {
  const { source, request } = input;
  if (request.method.toUpperCase() !== 'POST') throw new MethodNotAllowedError(request.method, ['POST']);
  if (request.rawBody.length > input.maxBodyBytes) throw new PayloadTooLargeError(request.rawBody.length, input.maxBodyBytes);
  verifyRequest({
    verification: source.verification,
    headers: request.headers,
    rawBody: request.rawBody,
    secrets: await input.loadSecrets(),
    nowSeconds: Math.floor(request.receivedAt.getTime() / 1000),
  });

  const { body, payloadFormat, payload } = decodeBody(source, request.rawBody);
  const providerEventId = boundedId(pick(source.eventId, request.headers, payload)) ?? defaultProviderId(source, request);
  const queued: QueuedEvent = {
    id: eventIdFor(source.id, providerEventId),
    source: source.id,
    providerEventId,
    type: boundedLabel(pick(source.eventType, request.headers, payload) ?? readField(payload, 'type') ?? 'webhook'),
    channel: channelOf(source, payload),
    receivedAt: request.receivedAt.toISOString(),
    requestId: request.requestId,
    headers: keptHeaders(source, request.headers),
    body,
    payloadFormat,
  };
  return [queued];
}

/**
 * Ids and types read from the payload are as long as the provider makes them, and each is stored beside the body:
 * a 200 KB `type` next to a 240 KB body would make an item DynamoDB refuses, after the 202. A longer id is replaced
 * by its hash (copies of one event still share it); a longer type is cut.
 */
const MAX_LABEL_LENGTH = 256;

export function boundedId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const wellFormed = withoutLoneSurrogates(id);
  return wellFormed.length <= MAX_LABEL_LENGTH ? wellFormed : contentHashId(Buffer.from(wellFormed, 'utf8'));
}

function boundedLabel(label: string): string {
  const wellFormed = withoutLoneSurrogates(label);
  return wellFormed.length <= MAX_LABEL_LENGTH ? wellFormed : Array.from(wellFormed).slice(0, MAX_LABEL_LENGTH).join('');
}

/**
 * JSON may escape half a surrogate pair (`"\ud800"`), which parses to a string with no UTF-8 form. DynamoDB keeps
 * strings as UTF-8, so such a type or id would make the item unstorable after the 202; it becomes U+FFFD, as any
 * UTF-8 encoder would write it. (The body itself is stored as the text that was sent, where it is still an escape.)
 */
function withoutLoneSurrogates(text: string): string {
  return text.replace(/\p{Cs}/gu, '\uFFFD');
}

function decodeBody(source: SourceDefinition, rawBody: Buffer): { body: string; payloadFormat: PayloadFormat; payload: unknown } {
  const text = decodeUtf8(rawBody);
  if (source.contentType === 'json') {
    if (text === undefined) throw new MalformedPayloadError('body is not valid UTF-8 JSON');
    if (exceedsNestingLimit(text)) throw new NestingTooDeepError(MAX_JSON_NESTING_DEPTH);
    try {
      return { body: text, payloadFormat: 'json', payload: JSON.parse(withoutByteOrderMark(text)) as unknown };
    } catch {
      // JSON.parse's message quotes part of the body, which must not reach logs or responses.
      throw new MalformedPayloadError('body is not valid JSON');
    }
  }
  if (text === undefined) return { body: rawBody.toString('base64'), payloadFormat: 'base64', payload: undefined };
  return { body: text, payloadFormat: 'text', payload: undefined };
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    // ignoreBOM keeps a leading byte-order mark in the text: the stored body must be the bytes that were signed.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function pick(from: { header?: string; field?: string } | undefined, headers: HeaderMap, payload: unknown): string | undefined {
  if (from?.header) return headers[from.header] || undefined;
  if (from?.field) return readField(payload, from.field);
  return undefined;
}

function defaultProviderId(source: SourceDefinition, request: InboundRequest): string {
  if (source.verification.scheme === 'standard-webhooks' && request.headers['webhook-id']) {
    return boundedId(request.headers['webhook-id'])!;
  }
  return contentHashId(request.rawBody);
}

function channelOf(source: SourceDefinition, payload: unknown): string {
  const fromPayload = source.channel?.field ? readField(payload, source.channel.field) : undefined;
  if (fromPayload && isValidChannelName(fromPayload)) return fromPayload;
  return source.channel?.name ?? source.id;
}

/** The request headers kept with an event (processing steps may need some); presets reuse it. */
export function keptHeaders(source: SourceDefinition, headers: HeaderMap): NameValueMap {
  const configured = source.verification.scheme === 'hmac' || source.verification.scheme === 'token' ? source.verification.header : undefined;
  const kept = emptyNameValueMap();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === configured || DROPPED_HEADERS.has(name) || CREDENTIAL_HEADER.test(name)) continue;
    kept[name] = value;
  }
  return kept;
}
