/**
 * Settings that pass the shared schema (the local runtime accepts them) but are certain to fail on AWS are refused
 * at synth, each problem naming the source and the field, instead of surfacing as 500s or a DLQ after a deploy.
 */
import { loadRetentionDays } from '../../lambdas/config';
import { parseHookhubConfig, type HookhubConfig, type SourceDefinition } from '../../lambdas/core/sources/source-definition';
import type { AblyOptions } from '../../lambdas/providers/ably/ably-options';
import { eventProcessors } from '../../lambdas/providers/registry';

/** Lambda environment variables share a 4 KB budget; the sources config is one of them. */
const MAX_SOURCES_JSON_BYTES = 3000;
/**
 * The management API's budget for the declared event types (its other variables take about 1.2 KB with a long stack
 * name). Examples are meant to be short; a catalog that needs more is refused at synth, not at deploy.
 */
const MAX_EVENT_TYPES_JSON_BYTES = 2500;
/** What Secrets Manager accepts as a secret name. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** A source of the `ably` preset with its parsed options. */
export interface AblySource {
  source: SourceDefinition;
  options: AblyOptions;
}

/**
 * The config's `ably`-preset sources. A source's parsed options are typed `unknown` (each preset has its own schema);
 * parsing ran the Ably schema on these, so the cast states what parsing already checked.
 */
export function ablySources(config: HookhubConfig): AblySource[] {
  return config.sources.flatMap((source) => (source.preset === 'ably' ? [{ source, options: source.options as AblyOptions }] : []));
}

export interface DeployableSettings {
  config: HookhubConfig;
  retentionDays: number;
}

/** Returns the sources JSON the Lambdas receive, or throws one error listing every problem. */
export function deployableSourcesJson(settings: DeployableSettings): string {
  // The declared event types go to the management API alone (deployableEventTypesJson).
  const sourcesJson = JSON.stringify({ ...settings.config, eventTypes: [] });
  if (Buffer.byteLength(sourcesJson) > MAX_SOURCES_JSON_BYTES) {
    throw new Error(`the sources config is ${Buffer.byteLength(sourcesJson)} bytes; Lambda environment space allows ${MAX_SOURCES_JSON_BYTES}`);
  }
  // The Lambdas parse this JSON at every cold start; a config built in code (not read through the schema) that
  // they would refuse is refused here instead.
  parseHookhubConfig(JSON.parse(sourcesJson));

  const problems: string[] = [];
  for (const source of settings.config.sources) {
    const { scheme } = source.verification;
    const secretName = source.secret?.secretName;
    // An Ably source's missing secret name is said in its own terms (ablyProblems).
    if (scheme !== 'none' && secretName === undefined && source.preset !== 'ably') {
      problems.push(`source '${source.id}' (scheme '${scheme}') has no secret.secretName: on AWS the ingest Lambda reads source secrets from Secrets Manager (secret.env is for the local runtime)`);
    }
    if (secretName !== undefined && !SECRET_NAME.test(secretName)) {
      problems.push(`source '${source.id}': secret.secretName '${secretName}' is not a Secrets Manager name (letters, digits and /_+=.@- only, at most 512)`);
    }
    if (source.processor !== undefined && !Object.hasOwn(eventProcessors, source.processor)) {
      problems.push(`source '${source.id}': processor '${source.processor}' is not registered in lambdas/providers/registry.ts, so the worker would fail every event of this source`);
    }
  }
  problems.push(...ablyProblems(settings.config));
  try {
    loadRetentionDays({ HOOKHUB_RETENTION_DAYS: String(settings.retentionDays) });
  } catch (error) {
    problems.push(`retentionDays ${settings.retentionDays}: ${(error as Error).message}, so every Lambda would fail its cold start`);
  }
  if (problems.length > 0) {
    throw new Error(`hookhub cannot be deployed to AWS with this configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return sourcesJson;
}

/**
 * What an Ably source needs on AWS: every secret it names is read from Secrets Manager (`env` is for the local
 * runtime), by the ingest Lambda, the history sync and the deploy-time rule registration.
 */
function ablyProblems(config: HookhubConfig): string[] {
  const problems: string[] = [];
  for (const { source, options } of ablySources(config)) {
    const references = [
      ['secret', source.secret, 'the ingest Lambda checks batch signatures and the history sync reads channel history with this Ably API key'],
      ['options.singleModeToken.secret', options.singleModeToken?.secret, "the ingest Lambda compares single-mode requests' token header with it"],
      ['options.registration.controlToken', options.registration?.controlToken, 'the deploy-time rule registration calls the Ably Control API with it'],
    ] as const;
    for (const [field, reference, use] of references) {
      if (reference === undefined) continue;
      if (reference.secretName === undefined) {
        problems.push(`source '${source.id}' (preset 'ably') has no ${field}.secretName: on AWS ${use}, read from Secrets Manager (${field}.env is for the local runtime)`);
      } else if (field !== 'secret' && !SECRET_NAME.test(reference.secretName)) {
        // The source's own secret name is checked with every source's, above.
        problems.push(`source '${source.id}': ${field}.secretName '${reference.secretName}' is not a Secrets Manager name (letters, digits and /_+=.@- only, at most 512)`);
      }
    }
  }
  return problems;
}

/** The declared event types as the management API's HOOKHUB_EVENT_TYPES, refused at synth when they cannot fit. */
export function deployableEventTypesJson(config: HookhubConfig): string {
  const json = JSON.stringify(config.eventTypes);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_EVENT_TYPES_JSON_BYTES) {
    throw new Error(`the declared eventTypes are ${bytes} bytes of JSON; the management API's environment allows ${MAX_EVENT_TYPES_JSON_BYTES} (shorten the examples or descriptions)`);
  }
  return json;
}
