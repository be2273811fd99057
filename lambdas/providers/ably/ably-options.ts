/**
 * The `ably` preset's settings (a source's `options`), with the defaults a smartadmin-style setup needs. Every
 * field is optional: `{"id": "ably", "preset": "ably", "secret": {"env": "ABLY_API_KEY"}}` is a working source.
 */
import * as z from 'zod/mini';
import { headerNameSchema, secretReferenceSchema } from '../../core/sources/schema-parts';

export type AblyDirection = 'received' | 'sent';

/** The seed's channels: clients report on `smartadmin-status`, commands go out on `smartadmin-control-*`. */
export const DEFAULT_ABLY_DIRECTIONS: Readonly<Record<string, AblyDirection>> = {
  'smartadmin-status': 'received',
  'smartadmin-control-*': 'sent',
};

/**
 * What the sync function's timeout allows beyond a run's time limit: the page in flight (stored, processed and
 * published), the run's record and the released leases. The stack and the local timer both size the run by it.
 */
export const ABLY_SYNC_GRACE_SECONDS = 60;

export function ablyOptionsSchema() {
  const direction = z.enum(['received', 'sent']);
  const channelName = z.string().check(z.minLength(1), z.maxLength(200));
  return z.object({
    /** A regular expression; messages on channels it does not match are counted as ignored, not stored. */
    channelFilter: z.optional(
      z.string().check(
        z.refine(isRegularExpression, { message: 'must be a valid regular expression' }),
      ),
    ),
    /**
     * Channel → direction. A key is a channel name or a prefix ending in `*`; the longest matching key wins, and a
     * channel no key matches is `received`.
     */
    directions: z._default(z.record(channelName, direction), { ...DEFAULT_ABLY_DIRECTIONS }),
    /** Presence items (enter, leave, update, ...): stored as `presence.<action>` events, or ignored. */
    presence: z._default(z.enum(['store', 'ignore']), 'store'),
    /** Channel lifecycle items (`channel.opened`, `channel.closed`): stored as such, or ignored. */
    lifecycle: z._default(z.enum(['store', 'ignore']), 'store'),
    /**
     * Ably signs only batch requests. A single-mode rule is accepted when it sends this header (set in the rule's
     * `target.headers`) with a value equal to the referenced secret; without it, unsigned requests are refused.
     */
    singleModeToken: z.optional(
      z.object({
        header: z._default(headerNameSchema(), 'x-hookhub-token'),
        secret: secretReferenceSchema(),
      }),
    ),
    /** The scheduled read of channel history that catches what webhooks missed. */
    history: z.prefault(
      z.object({
        /** Channels read on every run. */
        channels: z._default(z.array(channelName), []),
        /** Channels found by prefix through channel enumeration (needs the key's `channel-metadata` capability). */
        channelPrefixes: z._default(z.array(channelName), []),
        /** How often the schedule runs; 0 turns the schedule (and the local timer) off. */
        intervalMinutes: z._default(z.int().check(z.gte(0), z.lte(1440)), 5),
        /** How far back a channel with no cursor yet is read (Ably keeps persisted history 24 h by default). */
        lookBackHours: z._default(z.int().check(z.gte(1), z.lte(24 * 365)), 24),
        /** Each run re-reads this much before the cursor, for messages that reach history out of order. */
        overlapSeconds: z._default(z.int().check(z.gte(0), z.lte(3600)), 30),
        /** A run stops starting pages after this, and the next run resumes. */
        timeLimitSeconds: z._default(z.int().check(z.gte(5), z.lte(840)), 240),
      }),
      {},
    ),
    /**
     * Ensures the integration rule at Ably (Control API): on AWS at deploy, locally with `npm run register -- ably`.
     * Without a token, registration logs how to create the rule by hand and skips.
     */
    registration: z.optional(
      z.object({
        /** An Ably account access token with the `write:rule` capability. */
        controlToken: secretReferenceSchema(),
        /** The rule's channel filter; default: channelFilter. */
        channelFilter: z.optional(z.string()),
      }),
    ),
  });
}

export type AblyOptions = z.infer<ReturnType<typeof ablyOptionsSchema>>;

function isRegularExpression(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** The direction of a channel: the longest matching key of the map, else `received`. */
export function directionOf(channel: string, directions: Readonly<Record<string, AblyDirection>>): AblyDirection {
  let best: { length: number; direction: AblyDirection } | undefined;
  for (const [key, direction] of Object.entries(directions)) {
    const matches = key.endsWith('*') ? channel.startsWith(key.slice(0, -1)) : channel === key;
    // An exact name beats any prefix of the same length.
    const length = key.endsWith('*') ? key.length - 1 : key.length + 0.5;
    if (matches && (!best || length > best.length)) best = { length, direction };
  }
  return best?.direction ?? 'received';
}
