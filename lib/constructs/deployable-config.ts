/**
 * Settings that pass the shared schema (the local runtime accepts them) but are certain to fail on AWS are refused
 * at synth, each problem naming the source and the field, instead of surfacing as 500s or a DLQ after a deploy.
 */
import { loadRetentionDays } from '../../lambdas/config';
import { parseHookhubConfig, type HookhubConfig } from '../../lambdas/core/sources/source-definition';
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
    if (scheme !== 'none' && secretName === undefined) {
      problems.push(`source '${source.id}' (scheme '${scheme}') has no secret.secretName: on AWS the ingest Lambda reads source secrets from Secrets Manager (secret.env is for the local runtime)`);
    }
    if (secretName !== undefined && !SECRET_NAME.test(secretName)) {
      problems.push(`source '${source.id}': secret.secretName '${secretName}' is not a Secrets Manager name (letters, digits and /_+=.@- only, at most 512)`);
    }
    if (source.processor !== undefined && !Object.hasOwn(eventProcessors, source.processor)) {
      problems.push(`source '${source.id}': processor '${source.processor}' is not registered in lambdas/providers/registry.ts, so the worker would fail every event of this source`);
    }
  }
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

/** The declared event types as the management API's HOOKHUB_EVENT_TYPES, refused at synth when they cannot fit. */
export function deployableEventTypesJson(config: HookhubConfig): string {
  const json = JSON.stringify(config.eventTypes);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_EVENT_TYPES_JSON_BYTES) {
    throw new Error(`the declared eventTypes are ${bytes} bytes of JSON; the management API's environment allows ${MAX_EVENT_TYPES_JSON_BYTES} (shorten the examples or descriptions)`);
  }
  return json;
}
