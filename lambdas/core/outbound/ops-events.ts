/**
 * Operational events (`endpoint.disabled`, `message.attempt.exhausted`, ...): pushed to WebSocket subscribers of
 * channel `ops` and published as messages of that type (source `hookhub`), so an endpoint can subscribe to them as
 * to any other type. Disabling an endpoint is never silent, the complaint users have about the peers.
 *
 * Notifying is best effort: the state change it reports is already stored (the endpoint is disabled, the delivery
 * exhausted) and visible through the API, so a failed notification is reported, not retried.
 */
import type { OperationalEventType } from './outbound-model';
import { OPS_CHANNEL } from './outbound-model';
import type { PublishInput, PublishResult } from './publish-message';

export interface OperationalEvent {
  type: OperationalEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface OpsNotifier {
  notify(type: OperationalEventType, data: Record<string, unknown>): Promise<void>;
}

export function opsNotifier(deps: {
  publish: (input: PublishInput) => Promise<PublishResult>;
  /** Pushes a frame to the subscribers of a WebSocket channel. */
  push: (channel: string, frame: string) => Promise<unknown>;
  now: () => Date;
  onError: (error: unknown, event: OperationalEvent) => void;
}): OpsNotifier {
  return {
    async notify(type, data) {
      const event: OperationalEvent = { type, timestamp: deps.now().toISOString(), data };
      const payload = JSON.stringify(event);
      const results = await Promise.allSettled([
        deps.push(OPS_CHANNEL, JSON.stringify({ type: 'ops', event })),
        deps.publish({ eventType: type, payload, source: 'hookhub' }),
      ]);
      for (const result of results) if (result.status === 'rejected') deps.onError(result.reason, event);
    },
  };
}
