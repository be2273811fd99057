/**
 * Channel names and subscription patterns. A name is segments joined by `:` (`ably:job-42`). A pattern is a name,
 * `*` (everything), or a name prefix ending in `:*` (`ably:*` matches `ably:job-42` and `ably:job:7`).
 * Restricting wildcards to whole trailing segments means a channel has few candidate patterns, so fan-out can look
 * subscribers up by exact key instead of scanning every connection.
 */
import { BadRequestError, ChannelLimitError } from '../errors';

const NAME = /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$/;
export const MAX_CHANNELS_PER_CONNECTION = 20;

export function isValidChannelName(name: string): boolean {
  return name.length <= 200 && NAME.test(name);
}

export function isValidChannelPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith(':*')) return isValidChannelName(pattern.slice(0, -2));
  return isValidChannelName(pattern);
}

/** Parses `demo,ably:*` (query string) or an array (subscribe message); throws a 400 naming the bad entry. */
export function parseChannelPatterns(input: string | readonly unknown[] | undefined): string[] {
  const entries = typeof input === 'string' ? input.split(',') : [...(input ?? [])];
  const patterns = new Set<string>();
  for (const entry of entries) {
    if (typeof entry !== 'string') throw new BadRequestError('channels must be strings');
    const pattern = entry.trim();
    if (pattern === '') continue;
    if (!isValidChannelPattern(pattern)) throw new BadRequestError(`invalid channel pattern '${pattern}'`);
    patterns.add(pattern);
  }
  if (patterns.size > MAX_CHANNELS_PER_CONNECTION) {
    throw new ChannelLimitError(`at most ${MAX_CHANNELS_PER_CONNECTION} channel patterns per connection; this request names ${patterns.size}`);
  }
  return [...patterns];
}

/** Every pattern that matches `channel`: the name itself, `*`, and each `prefix:*`. */
export function patternsMatching(channel: string): string[] {
  const segments = channel.split(':');
  const patterns = [channel, '*'];
  for (let length = 1; length < segments.length; length++) patterns.push(`${segments.slice(0, length).join(':')}:*`);
  return patterns;
}
