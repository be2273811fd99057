/**
 * WebSocket connection use cases. Connections carry the channel patterns they listen to; every stored item gets
 * a TTL at the API Gateway limit of a connection's life (2 hours), so a socket whose $disconnect never ran is
 * cleaned up by DynamoDB TTL even if no push ever meets its 410.
 */
import { BadRequestError, ChannelLimitError } from '../errors';
import type { ConnectionStore } from '../ports';
import { MAX_CHANNELS_PER_CONNECTION, parseChannelPatterns } from './channels';

export const MAX_CONNECTION_SECONDS = 2 * 60 * 60;

export function connectionExpiry(connectedAtMs: number): number {
  return Math.floor(connectedAtMs / 1000) + MAX_CONNECTION_SECONDS;
}

export async function openConnection(
  input: { connectionId: string; connectedAtMs: number; channels: string | undefined },
  store: ConnectionStore,
): Promise<string[]> {
  const channels = parseChannelPatterns(input.channels);
  await store.save({
    connectionId: input.connectionId,
    channels,
    connectedAt: new Date(input.connectedAtMs).toISOString(),
    expiresAt: connectionExpiry(input.connectedAtMs),
  });
  return channels;
}

export type ClientCommand = { action: 'subscribe' | 'unsubscribe'; channels: string[] };

/** Parses a client frame: `{"action":"subscribe"|"unsubscribe","channels":[...]}`. */
export function parseClientCommand(frame: string | undefined): ClientCommand {
  let message: unknown;
  try {
    message = JSON.parse(frame ?? '');
  } catch {
    throw new BadRequestError('message must be JSON: {"action":"subscribe","channels":["demo"]}');
  }
  const { action, channels } = (message ?? {}) as { action?: unknown; channels?: unknown };
  if (action !== 'subscribe' && action !== 'unsubscribe') throw new BadRequestError('action must be subscribe or unsubscribe');
  if (!Array.isArray(channels) || channels.length === 0) throw new BadRequestError('channels must be a non-empty array');
  return { action, channels: parseChannelPatterns(channels) };
}

export async function applyClientCommand(
  command: ClientCommand,
  connection: { connectionId: string; connectedAtMs: number },
  store: ConnectionStore,
): Promise<void> {
  if (command.action === 'subscribe') {
    // The cap is per connection, not per message: the store counts what the connection already has, atomically.
    const outcome = await store.addChannels(connection.connectionId, command.channels, {
      expiresAt: connectionExpiry(connection.connectedAtMs),
      maxChannels: MAX_CHANNELS_PER_CONNECTION,
    });
    if (!outcome.added) {
      throw new ChannelLimitError(
        `at most ${MAX_CHANNELS_PER_CONNECTION} channel patterns per connection; this connection has ${outcome.subscribed} ` +
          `and the request adds ${outcome.wouldAdd} new: nothing was subscribed (unsubscribe some first)`,
      );
    }
  } else {
    await store.removeChannels(connection.connectionId, command.channels);
  }
}
