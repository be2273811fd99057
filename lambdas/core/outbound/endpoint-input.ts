/**
 * Endpoint settings as an operator sends them (POST and PATCH /api/endpoints), checked before anything is stored,
 * and the endpoint as the API shows it back: without its secrets, and with custom header values hidden. Also the
 * endpoint's signing secrets: a new one, and the ones that sign right now (rotation).
 */
import { EVENT_TYPE_SEGMENTS } from './event-type-name';
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { BadRequestError } from '../errors';
import { emptyNameValueMap, type NameValueMap } from '../name-value-map';
import { REDACTED_HEADER_VALUE } from './delivery-request';
import type { Endpoint } from './outbound-model';
import type { EndpointSettings } from './outbound-ports';

export const ENDPOINT_INPUT_LIMITS = {
  urlChars: 2048,
  descriptionChars: 500,
  eventTypes: 100,
  eventTypePatternChars: 200,
  sources: 50,
  headers: 20,
  headerNameChars: 256,
  headerValueChars: 1024,
  rateLimitPerSecond: { min: 1, max: 10_000 },
  retryDelays: { min: 1, max: 20 },
  retryDelaySeconds: { min: 1, max: 86_400 },
  failureThreshold: { min: 1, max: 1000 },
} as const;

export const DEFAULT_FAILURE_THRESHOLD = 5;

/**
 * Headers hookhub sets itself: the signature headers (a custom `webhook-signature` would break every receiver's
 * check), the body's framing and type, and the connection, which the sender manages.
 */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'user-agent',
  'connection',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);
const RESERVED_HEADER_PREFIX = 'webhook-';

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What Node's http client refuses in a header value (it would throw on every send): controls but tab, and above Latin-1. */
const FORBIDDEN_HEADER_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const EVENT_TYPE_PATTERN = new RegExp(`^(\\*|${EVENT_TYPE_SEGMENTS}(\\.\\*)?)$`);
const SOURCE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** `new URL` quietly drops surrounding spaces and inner tabs and newlines: the URL stored would not be the one sent. */
const URL_WHITESPACE_OR_CONTROL = /[\s\x00-\x1f\x7f]/;
const HTTP_SCHEME = /^https?:\/\//i;

/** A JSON body with thousands of bad entries should not answer with thousands of lines. */
const MAX_PROBLEMS_REPORTED = 10;

type Rule<T> = (value: T) => string | undefined;

function urlProblem(value: string): string | undefined {
  if (value.length > ENDPOINT_INPUT_LIMITS.urlChars) return `must be at most ${ENDPOINT_INPUT_LIMITS.urlChars} characters`;
  if (URL_WHITESPACE_OR_CONTROL.test(value)) return 'must not contain spaces or control characters';
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (!HTTP_SCHEME.test(value) || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    return 'must be an absolute http or https URL';
  }
  // Credentials in a URL end up in logs and the attempt log; a custom header is redacted there.
  if (parsed.username !== '' || parsed.password !== '') return 'must not contain a user name or password (send credentials in a header)';
  return undefined;
}

function eventTypePatternProblem(value: string): string | undefined {
  if (value.length > ENDPOINT_INPUT_LIMITS.eventTypePatternChars) {
    return `must be at most ${ENDPOINT_INPUT_LIMITS.eventTypePatternChars} characters`;
  }
  if (!EVENT_TYPE_PATTERN.test(value)) {
    return 'must be `*`, an event type (`a.b.c`) or a prefix wildcard (`a.b.*`) of letters, digits, `_` and `-`';
  }
  return undefined;
}

function sourceIdProblem(value: string): string | undefined {
  return SOURCE_ID.test(value) ? undefined : 'must be a source id: lowercase letters, digits, `_` or `-`, at most 64 characters';
}

function headerNameProblem(name: string): string | undefined {
  if (!HEADER_NAME.test(name)) return 'is not a valid HTTP header name';
  if (name.length > ENDPOINT_INPUT_LIMITS.headerNameChars) return `must be at most ${ENDPOINT_INPUT_LIMITS.headerNameChars} characters`;
  const lowerName = name.toLowerCase();
  if (RESERVED_HEADERS.has(lowerName) || lowerName.startsWith(RESERVED_HEADER_PREFIX)) return 'is set by hookhub and cannot be overridden';
  // A valid token, but assigning it to a plain object replaces the prototype: stores and JSON round trips would drop it.
  if (lowerName === '__proto__') return 'cannot be used as a header name';
  return undefined;
}

function headerValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > ENDPOINT_INPUT_LIMITS.headerValueChars) return `must be at most ${ENDPOINT_INPUT_LIMITS.headerValueChars} characters`;
  if (FORBIDDEN_HEADER_VALUE_CHAR.test(value)) return 'must not contain CR, LF, NUL, other control characters or characters beyond Latin-1';
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names are stored lower-cased (HTTP ignores their case, and the request sends them so); values as given. */
function toHeaderMap(headers: Record<string, unknown>): NameValueMap {
  const map = emptyNameValueMap();
  for (const [name, value] of Object.entries(headers)) map[name.toLowerCase()] = value as string;
  return map;
}

/**
 * Built on first use, not at import, like the sources schema (see docs/decisions.md): handlers that never parse
 * endpoint input carry no zod.
 */
function buildSchemas() {
  z.config(en());

  /** A missing required field says so; any other wrong type gets the field's own rule. */
  const requiredOr = (problem: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : problem);

  const followsRule = <T>(rule: Rule<T>) =>
    z.superRefine<T>((value, context) => {
      const problem = rule(value);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem, input: value });
    });

  const integerFrom = (limits: { min: number; max: number }) => {
    const problem = `must be an integer from ${limits.min} to ${limits.max}`;
    return z
      .number({ error: problem })
      .check(z.refine((value) => Number.isInteger(value) && value >= limits.min && value <= limits.max, { error: problem }));
  };

  const url = z.string({ error: requiredOr('must be an absolute http or https URL') }).check(followsRule(urlProblem));
  const description = z.string({ error: 'must be a string' }).check(
    z.maxLength(ENDPOINT_INPUT_LIMITS.descriptionChars, { error: `must be at most ${ENDPOINT_INPUT_LIMITS.descriptionChars} characters` }),
  );
  const eventTypes = z
    .array(z.string({ error: 'must be an event type pattern (a string)' }).check(followsRule(eventTypePatternProblem)), {
      error: 'must be an array of event type patterns',
    })
    .check(z.maxLength(ENDPOINT_INPUT_LIMITS.eventTypes, { error: `must list at most ${ENDPOINT_INPUT_LIMITS.eventTypes} patterns` }));
  const sources = z
    .array(z.string({ error: 'must be a source id (a string)' }).check(followsRule(sourceIdProblem)), {
      error: 'must be an array of source ids',
    })
    .check(z.maxLength(ENDPOINT_INPUT_LIMITS.sources, { error: `must list at most ${ENDPOINT_INPUT_LIMITS.sources} sources` }));

  // Checked by hand rather than with z.record, which silently drops a `__proto__` key instead of reporting it.
  const headers = z.pipe(
    z.custom<Record<string, unknown>>(isPlainObject, { error: 'must be an object of header names to values' }).check(
      z.superRefine((given, context) => {
        const entries = Object.entries(given);
        if (entries.length > ENDPOINT_INPUT_LIMITS.headers) {
          context.addIssue({ code: 'custom', message: `must hold at most ${ENDPOINT_INPUT_LIMITS.headers} headers`, input: given });
        }
        const firstNameOf = new Map<string, string>();
        for (const [name, value] of entries) {
          const problem = headerNameProblem(name) ?? headerValueProblem(value);
          const earlier = firstNameOf.get(name.toLowerCase());
          if (problem !== undefined) {
            context.addIssue({ code: 'custom', message: problem, input: value, path: [name] });
          } else if (earlier !== undefined) {
            context.addIssue({ code: 'custom', message: `names the same header as ${earlier} (case does not count)`, input: value, path: [name] });
          }
          firstNameOf.set(name.toLowerCase(), earlier ?? name);
        }
      }),
    ),
    z.transform(toHeaderMap),
  );

  const rateLimitPerSecond = integerFrom(ENDPOINT_INPUT_LIMITS.rateLimitPerSecond);
  const { min: minDelays, max: maxDelays } = ENDPOINT_INPUT_LIMITS.retryDelays;
  const retryScheduleProblem = `must list ${minDelays} to ${maxDelays} delays in seconds`;
  const retrySchedule = z
    .array(integerFrom(ENDPOINT_INPUT_LIMITS.retryDelaySeconds), { error: retryScheduleProblem })
    .check(z.minLength(minDelays, { error: retryScheduleProblem }), z.maxLength(maxDelays, { error: retryScheduleProblem }));
  const failureThreshold = integerFrom(ENDPOINT_INPUT_LIMITS.failureThreshold);
  const disabled = z.boolean({ error: 'must be true or false' });

  const notAnObject = { error: 'must be a JSON object' };
  const create = z.strictObject(
    {
      url,
      description: z._default(description, ''),
      eventTypes: z._default(eventTypes, () => []),
      sources: z._default(sources, () => []),
      headers: z._default(headers, () => emptyNameValueMap()),
      rateLimitPerSecond: z.optional(rateLimitPerSecond),
      retrySchedule: z.optional(retrySchedule),
      failureThreshold: z._default(failureThreshold, DEFAULT_FAILURE_THRESHOLD),
      disabled: z._default(disabled, false),
    },
    notAnObject,
  );
  /** `null` removes an optional setting (back to unlimited, back to the default schedule). */
  const patch = z.strictObject(
    {
      url: z.optional(url),
      description: z.optional(description),
      eventTypes: z.optional(eventTypes),
      sources: z.optional(sources),
      headers: z.optional(headers),
      rateLimitPerSecond: z.optional(z.nullable(rateLimitPerSecond)),
      retrySchedule: z.optional(z.nullable(retrySchedule)),
      failureThreshold: z.optional(failureThreshold),
      disabled: z.optional(disabled),
    },
    notAnObject,
  );
  return { create, patch };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

function endpointSchemas(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

/** One line per problem, `path: problem`; unknown fields are named one by one. */
function badRequest(issues: readonly z.core.$ZodIssue[]): BadRequestError {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(`${[...issue.path, key].join('.')}: is not a known field`);
    } else {
      problems.push(`${issue.path.map(String).join('.') || 'body'}: ${issue.message}`);
    }
  }
  const shown = problems.slice(0, MAX_PROBLEMS_REPORTED);
  if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
  return new BadRequestError(shown.join('; '));
}

export function parseEndpointCreate(body: unknown): EndpointSettings {
  const result = endpointSchemas().create.safeParse(body);
  if (!result.success) throw badRequest(result.error.issues);
  return result.data;
}

/** Only the keys given; a setting removed with `null` is present with the value undefined (see EndpointStore.update). */
export function parseEndpointPatch(body: unknown): Partial<EndpointSettings> {
  const result = endpointSchemas().patch.safeParse(body);
  if (!result.success) throw badRequest(result.error.issues);
  const { rateLimitPerSecond, retrySchedule, ...rest } = result.data;
  const changes: Partial<EndpointSettings> = { ...rest };
  if (rateLimitPerSecond !== undefined) changes.rateLimitPerSecond = rateLimitPerSecond ?? undefined;
  if (retrySchedule !== undefined) changes.retrySchedule = retrySchedule ?? undefined;
  if (Object.keys(changes).length === 0) throw new BadRequestError('body: the patch changes nothing; give at least one field to change');
  return changes;
}

/** The endpoint as the API shows it. */
export type PublicEndpoint = Omit<Endpoint, 'secrets'> & {
  /** While an old secret still signs: when the last one stops (a receiver may drop it then). */
  secretRotation: { previousSecretExpiresAt?: string };
};

/**
 * Fields are listed one by one rather than copied with the secrets left out, so a field added to the stored item
 * later is not shown until someone decides it may be. `nowMs` decides which old secrets still sign.
 */
export function toPublicEndpoint(endpoint: Endpoint, nowMs: number = Date.now()): PublicEndpoint {
  const headers = emptyNameValueMap();
  for (const name of Object.keys(endpoint.headers)) headers[name] = REDACTED_HEADER_VALUE;
  const previousSecretExpiresAt = latestValidExpiry(endpoint.secrets.slice(1), nowMs);
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: [...endpoint.eventTypes],
    sources: [...endpoint.sources],
    headers,
    rateLimitPerSecond: endpoint.rateLimitPerSecond,
    retrySchedule: endpoint.retrySchedule === undefined ? undefined : [...endpoint.retrySchedule],
    failureThreshold: endpoint.failureThreshold,
    disabled: endpoint.disabled,
    disabledReason: endpoint.disabledReason,
    disabledAt: endpoint.disabledAt,
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
    consecutiveFailures: endpoint.consecutiveFailures,
    failingSince: endpoint.failingSince,
    lastSuccessAt: endpoint.lastSuccessAt,
    lastFailureAt: endpoint.lastFailureAt,
    secretRotation: previousSecretExpiresAt === undefined ? {} : { previousSecretExpiresAt },
  };
}

/** `whsec_` + base64 of 32 random bytes (the Standard Webhooks format; within its 24–64 bytes). */
export function generateEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The secrets that sign a delivery now: the current one first, then old ones until their expiresAt. An old secret
 * without a readable expiry is dropped: one that signed forever would undo the rotation.
 */
export function activeSecrets(endpoint: Pick<Endpoint, 'secrets'>, nowMs: number): string[] {
  const [current, ...previous] = endpoint.secrets;
  if (current === undefined) return [];
  return [current.secret, ...previous.filter((secret) => signsAt(secret, nowMs)).map((secret) => secret.secret)];
}

function signsAt(secret: Endpoint['secrets'][number], nowMs: number): boolean {
  return secret.expiresAt !== undefined && Date.parse(secret.expiresAt) > nowMs;
}

function latestValidExpiry(previous: Endpoint['secrets'], nowMs: number): string | undefined {
  let latest: { at: number; text: string } | undefined;
  for (const secret of previous) {
    if (!signsAt(secret, nowMs)) continue;
    const at = Date.parse(secret.expiresAt!);
    if (latest === undefined || at > latest.at) latest = { at, text: secret.expiresAt! };
  }
  return latest?.text;
}
