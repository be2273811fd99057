/**
 * Pushes an event to every connection subscribed to its channel. Realtime is best effort on top of durable
 * storage: a push that fails for a reason other than 410 Gone is counted, not thrown, so one broken socket does
 * not make the whole event retry and re-push to everyone else.
 */
import type { ConnectionMessenger, ConnectionStore } from '../ports';
import { decodePayload, type StoredEvent } from '../events/inbound-event';
import { eventReadPath } from '../events/event-read-path';
import { patternsMatching } from './channels';
import { MAX_WEBSOCKET_MESSAGE_BYTES } from './message-limit';

/** The part of the connection store fan-out needs: who listens, and forgetting a connection that is gone. */
export type SubscriberDirectory = Pick<ConnectionStore, 'findSubscribers' | 'remove'>;

export interface FanOutResult {
  sent: number;
  gone: number;
  failed: number;
}

/**
 * The frame pushed for an event. An event whose message would not fit in one WebSocket message (API Gateway and the
 * local gateway both refuse larger ones) is still pushed, as its envelope with `payloadOmitted: true` and the read-API
 * path of the whole event, so a subscriber learns of every event and fetches a large payload only if it wants it.
 */
export function realtimeMessage(event: StoredEvent): string {
  const envelope = { id: event.id, source: event.source, type: event.type, channel: event.channel, receivedAt: event.receivedAt };
  const whole = JSON.stringify({ type: 'event', event: { ...envelope, payload: decodePayload(event) } });
  if (Buffer.byteLength(whole, 'utf8') <= MAX_WEBSOCKET_MESSAGE_BYTES) return whole;
  return JSON.stringify({ type: 'event', event: { ...envelope, payloadOmitted: true, payloadPath: eventReadPath(event.id) } });
}

export interface FanOutDeps {
  connections: SubscriberDirectory;
  messenger: ConnectionMessenger;
  onPushError?: (connectionId: string, error: unknown) => void;
}

export async function fanOutEvent(event: StoredEvent, deps: FanOutDeps): Promise<FanOutResult> {
  return pushToChannel(event.channel, realtimeMessage(event), deps);
}

/** Pushes one frame to every connection subscribed to `channel` (or to a pattern matching it). */
export async function pushToChannel(channel: string, data: string, deps: FanOutDeps): Promise<FanOutResult> {
  const subscribers = await deps.connections.findSubscribers(patternsMatching(channel));
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
