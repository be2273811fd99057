/**
 * How long a realtime client waits before reconnecting: exponential backoff, capped, with jitter. `npm run listen`
 * uses it, and it is the policy frontends are expected to follow: when a runtime or a gateway restarts, every
 * client notices at the same moment, and without jitter they would all come back in the same instant, again and
 * again.
 */
export const RECONNECT_INITIAL_DELAY_MS = 500;
export const RECONNECT_MAX_DELAY_MS = 30_000;

/**
 * Delay before reconnect attempt `attempt` (0 for the first after a loss). The ceiling doubles from 0.5 s to 30 s;
 * the delay is half the ceiling plus a random share of the other half ("equal jitter"), so it still grows with
 * each failure while clients spread out.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_INITIAL_DELAY_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
