/**
 * An inbound event as an outbound message, so an endpoint can receive provider events: event type
 * `{source}.{type}`, a message id derived from the event id (a retried worker publishes the same message, whose
 * deliveries carry the same `webhook-id`, which receivers deduplicate on), and the Standard Webhooks-style envelope
 * `{type, timestamp, data}`. A payload too large for a message is sent as its envelope with the read-API path.
 */
import { decodePayload, type StoredEvent } from '../events/inbound-event';
import { eventReadPath } from '../events/event-read-path';
import { deterministicMessageId } from './outbound-ids';
import { MAX_PAYLOAD_BYTES, type PublishInput } from './publish-message';

export function inboundEventType(event: Pick<StoredEvent, 'source' | 'type'>): string {
  // Provider types can hold any character (`/`, spaces); the outbound catalog's names are dotted tokens.
  const type = event.type.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+|\.+$/g, '').replace(/\.{2,}/g, '.') || 'event';
  return `${event.source}.${type}`.slice(0, 200);
}

export function inboundMessage(event: StoredEvent): PublishInput {
  const eventType = inboundEventType(event);
  const envelope = {
    type: eventType,
    timestamp: event.receivedAt,
    data: { eventId: event.id, source: event.source, type: event.type, providerEventId: event.providerEventId, channel: event.channel },
  };
  let payload = JSON.stringify({ ...envelope, data: { ...envelope.data, payload: decodePayload(event) } });
  if (Buffer.byteLength(payload, 'utf8') > MAX_PAYLOAD_BYTES) {
    payload = JSON.stringify({ ...envelope, data: { ...envelope.data, payloadOmitted: true, payloadPath: eventReadPath(event.id) } });
  }
  return { id: deterministicMessageId(event.id, Date.parse(event.receivedAt)), eventType, payload, source: event.source, storeWhenUnmatched: false };
}
