/**
 * Pushes an event to every connection subscribed to its channel. Realtime is best effort on top of durable
 * storage: a push that fails for a reason other than 410 Gone is counted, not thrown, so one broken socket does
 * not make the whole event retry and re-push to everyone else.
 */
import type { ConnectionMessenger, ConnectionStore } from '../ports';
import { decodePayload, type StoredEvent } from '../events/inbound-event';
import { patternsMatching } from './channels';

/** The part of the connection store fan-out needs: who listens, and forgetting a connection that is gone. */
export type SubscriberDirectory = Pick<ConnectionStore, 'findSubscribers' | 'remove'>;

export interface FanOutResult {
  sent: number;
  gone: number;
  failed: number;
}

export function realtimeMessage(event: StoredEvent): string {
  return JSON.stringify({
    type: 'event',
    event: {
      id: event.id,
      source: event.source,
      type: event.type,
      channel: event.channel,
      receivedAt: event.receivedAt,
      payload: decodePayload(event),
    },
  });
}

export async function fanOutEvent(
  event: StoredEvent,
  deps: { connections: SubscriberDirectory; messenger: ConnectionMessenger; onPushError?: (connectionId: string, error: unknown) => void },
): Promise<FanOutResult> {
  const subscribers = await deps.connections.findSubscribers(patternsMatching(event.channel));
  const data = realtimeMessage(event);
  const result: FanOutResult = { sent: 0, gone: 0, failed: 0 };
  await Promise.all(
    subscribers.map(async (connectionId) => {
      try {
        if ((await deps.messenger.push(connectionId, data)) === 'sent') {
          result.sent++;
        } else {
          result.gone++;
          await deps.connections.remove(connectionId);
        }
      } catch (error) {
        result.failed++;
        deps.onPushError?.(connectionId, error);
      }
    }),
  );
  return result;
}
