/** What the management API answers for stored records: the record without storage details (TTL, index keys). */
import type { Attempt, AuditRecord, Delivery, OutboundMessage } from './outbound-model';

export function toPublicAttempt(attempt: Attempt) {
  const { expiresAt: _, ...shown } = attempt;
  return shown;
}

export function toPublicDelivery(delivery: Delivery) {
  const { expiresAt: _, ...shown } = delivery;
  return shown;
}

export function toPublicAuditRecord(record: AuditRecord) {
  const { expiresAt: _, ...shown } = record;
  return shown;
}

export function toPublicMessage(message: OutboundMessage) {
  return {
    id: message.id,
    eventType: message.eventType,
    source: message.source,
    payload: JSON.parse(message.payload) as unknown,
    createdAt: message.createdAt,
  };
}
