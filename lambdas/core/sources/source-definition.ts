/**
 * A source is one inbound webhook URL (`POST /hooks/{id}`) with its verification scheme and the rules that turn a
 * request into an event. Sources are declared in hookhub.config.json; this schema is the single validator used by
 * the CDK app (at synth), the local runtime (at start) and the Lambdas (at cold start).
 *
 * A source may name a provider preset (`"preset": "ably"`, lambdas/providers/): the preset then verifies and parses
 * its requests itself, and its `options` are validated by the preset's own schema. The parsed source says so with
 * the verification scheme `provider`, which is accepted only together with a preset (so the parsed config, which the
 * CDK app hands to the Lambdas as JSON, parses again to the same thing).
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { ConfigurationError } from '../errors';
import { EVENT_TYPE_NAME, EVENT_TYPE_NAME_RULE } from '../outbound/event-type-name';
import { headerNameSchema, secretReferenceSchema } from './schema-parts';
import { PROVIDER_PRESET_NAMES, providerOptionsSchema } from '../../providers/preset-options';

/**
 * Built on first use, not at import: the handlers that never parse sources (realtime, read API) then carry no zod at
 * all (esbuild drops what is never called), and the others pay for it where config.ts parses, once per cold start.
 */
function buildConfigSchema() {
  // zod/mini keeps Lambda bundles small (~15 KiB instead of ~440 KiB); the English locale gives readable messages.
  z.config(en());

  const headerName = headerNameSchema();

  /** A dotted path into the JSON payload, e.g. `data.object.id`. */
  const fieldPath = z.string().check(z.regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'must be a dotted field path'));

  const tolerance = z._default(z.int().check(z.positive(), z.lte(3600)), 300);

  const standardWebhooksVerification = z.object({
    scheme: z.literal('standard-webhooks'),
    toleranceSeconds: tolerance,
  });

  const hmacVerification = z.object({
    scheme: z.literal('hmac'),
    /** Header that carries the signature, e.g. `X-Hub-Signature-256`. */
    header: headerName,
    algorithm: z._default(z.enum(['sha256', 'sha1', 'sha512']), 'sha256'),
    encoding: z._default(z.enum(['hex', 'base64']), 'hex'),
    /** Text before the digest in the header, e.g. `sha256=`. */
    prefix: z._default(z.string(), ''),
    /** With a timestamp header the signed content is `${timestamp}.${body}` and the replay window applies. */
    timestampHeader: z.optional(headerName),
    toleranceSeconds: tolerance,
  });

  const tokenVerification = z.object({
    scheme: z.literal('token'),
    /** Header whose whole value must equal one of the source's secrets. */
    header: headerName,
  });

  const noVerification = z.object({ scheme: z.literal('none') });

  /** The source's provider preset verifies its requests (set by parsing; only valid with a preset). */
  const providerVerification = z.object({ scheme: z.literal('provider') });

  const verificationSchema = z.discriminatedUnion('scheme', [
    standardWebhooksVerification,
    hmacVerification,
    tokenVerification,
    noVerification,
    providerVerification,
  ]);

  const secretReference = secretReferenceSchema();

  const valueFrom = z
    .object({ header: z.optional(headerName), field: z.optional(fieldPath) })
    .check(z.refine((from) => !(from.header && from.field), { message: 'use header or field, not both' }));

  const sourceObject = z
    .object({
      id: z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, - or _ (at most 63)')),
      description: z.optional(z.string()),
      /** A provider preset (lambdas/providers/registry.ts) that verifies, parses and processes this source's requests. */
      preset: z.optional(z.enum(PROVIDER_PRESET_NAMES)),
      /** The preset's settings, checked by the preset's own schema. */
      options: z.optional(z.unknown()),
      /** Required without a preset; a preset brings its own. */
      verification: z.optional(verificationSchema),
      secret: z.optional(secretReference),
      /** Required (true) to accept a source with scheme `none`: unsigned webhooks are a deliberate choice. */
      insecure: z._default(z.boolean(), false),
      /** `json`: the body must parse as JSON (400 otherwise). `any`: stored as received. */
      contentType: z._default(z.enum(['json', 'any']), 'json'),
      /** Where the provider's event id comes from; without one, the id is a hash of the body. */
      eventId: z.optional(valueFrom),
      /** Where the event type comes from; default: the payload's top-level `type` when it is a string. */
      eventType: z.optional(valueFrom),
      /** Realtime channel of the events: a fixed name, or a payload field; default: the source id. */
      channel: z.optional(
        z.object({ name: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.:-]+$/))), field: z.optional(fieldPath) }),
      ),
      /** Name of a provider-specific processing step run by the worker (registered in code). */
      processor: z.optional(z.string()),
    })
    .check(
      z.superRefine((source, context) => {
        if (source.preset !== undefined) {
          if (source.verification !== undefined && source.verification.scheme !== 'provider') {
            context.addIssue({ code: 'custom', input: source, path: ['verification'], message: `source '${source.id}' uses preset '${source.preset}', which brings its own verification: remove "verification"` });
          }
          if (!source.secret) context.addIssue({ code: 'custom', input: source, message: `source '${source.id}' needs a "secret" reference` });
          return;
        }
        if (source.verification === undefined) {
          context.addIssue({ code: 'custom', input: source, path: ['verification'], message: `source '${source.id}' needs a "verification" (or a "preset")` });
        } else if (source.verification.scheme === 'provider') {
          context.addIssue({ code: 'custom', input: source, path: ['verification'], message: `scheme 'provider' needs a "preset"` });
        } else if (source.options !== undefined) {
          context.addIssue({ code: 'custom', input: source, path: ['options'], message: `"options" belong to a preset; source '${source.id}' has none` });
        } else if (source.verification.scheme === 'none') {
          if (!source.insecure) {
            context.addIssue({
              code: 'custom',
              input: source,
              message: `source '${source.id}' has no verification; set "insecure": true to accept unsigned webhooks`,
            });
          }
        } else if (!source.secret) {
          context.addIssue({ code: 'custom', input: source, message: `source '${source.id}' needs a "secret" reference` });
        }
      }),
    );

  // The preset's options are parsed by its schema (defaults filled in), and the verification says the preset does it.
  const sourceSchema = z.pipe(
    sourceObject,
    z.transform((source, context) => {
      const verification: z.infer<typeof verificationSchema> = source.verification ?? { scheme: 'provider' };
      if (source.preset === undefined) return { ...source, verification, options: undefined };
      const parsed = providerOptionsSchema(source.preset).safeParse(source.options ?? {});
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          context.issues.push({ code: 'custom', input: source.options, path: ['options', ...issue.path], message: issue.message });
        }
        return z.NEVER;
      }
      return { ...source, verification, options: parsed.data as unknown };
    }),
  );

  const hookhubConfigSchema = z
    .object({
      sources: z.array(sourceSchema).check(z.minLength(1, 'declare at least one source')),
      /**
       * The application's own outbound event types, for the catalog (GET /api/event-types): what a subscriber can
       * pick, with a description and an example payload. Publishing an undeclared type is accepted all the same.
       */
      eventTypes: z._default(z.array(declaredEventTypeSchema()), []),
    })
    .check(
      z.superRefine((config, context) => {
        const seen = new Set<string>();
        for (const source of config.sources) {
          if (seen.has(source.id)) context.addIssue({ code: 'custom', input: config, message: `duplicate source id '${source.id}'` });
          seen.add(source.id);
        }
        const types = new Set<string>();
        for (const eventType of config.eventTypes) {
          if (types.has(eventType.name)) context.addIssue({ code: 'custom', input: config, message: `duplicate event type '${eventType.name}'` });
          types.add(eventType.name);
        }
      }),
    );

  return hookhubConfigSchema;
}

/** One declared outbound event type: what a subscriber can pick, with a description and an example payload. */
function declaredEventTypeSchema() {
  z.config(en());
  return z.object({
    name: z.string().check(z.regex(EVENT_TYPE_NAME, `must be ${EVENT_TYPE_NAME_RULE}`)),
    description: z._default(z.string(), ''),
    example: z.optional(z.unknown()),
  });
}

let configSchema: ReturnType<typeof buildConfigSchema> | undefined;

/**
 * The declared event types alone (the management API's HOOKHUB_EVENT_TYPES on AWS, where they travel apart from the
 * sources so the other functions' environments do not carry the catalog's examples).
 */
export function parseDeclaredEventTypes(document: unknown): DeclaredEventType[] {
  const result = z.array(declaredEventTypeSchema()).safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigurationError(`invalid declared event types:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

export type HookhubConfig = z.infer<ReturnType<typeof buildConfigSchema>>;
export type SourceDefinition = HookhubConfig['sources'][number];
export type DeclaredEventType = HookhubConfig['eventTypes'][number];
export type Verification = SourceDefinition['verification'];
/** What the config file may omit (defaults filled in by parsing). */
export type HookhubConfigInput = z.input<ReturnType<typeof buildConfigSchema>>;

/** Validates a parsed config document; the error lists every problem with its path. */
export function parseHookhubConfig(document: unknown): HookhubConfig {
  configSchema ??= buildConfigSchema();
  const result = configSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigurationError(`invalid hookhub config:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

export function findSource(config: HookhubConfig, sourceId: string): SourceDefinition | undefined {
  return config.sources.find((source) => source.id === sourceId);
}
