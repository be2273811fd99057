/**
 * Everything the local runtime reads from its environment and config, checked before anything starts. Without
 * these checks a source whose secret variable is unset, or a 5-character admin key, starts fine and then answers
 * every request with 500. Each problem is one line naming the variable, and all of them are reported at once so a
 * broken setup is fixed in one round.
 *
 * Where a rule already exists it is reused, not restated: the Standard Webhooks verifier's key parser, the admin
 * key's minimum length, the Lambdas' own parsers for the body limit and retention, Powertools' list of log levels.
 */
import type { AblyOptions } from '../../lambdas/providers/ably/ably-options';
import { LogLevel } from '@aws-lambda-powertools/logger';
import type { HookhubConfig, SourceDefinition } from '../../lambdas/core/sources/source-definition';
import { ConfigurationError } from '../../lambdas/core/errors';
import { standardWebhooksKey } from '../../lambdas/core/verification/standard-webhooks';
import { MIN_ADMIN_KEY_LENGTH } from '../../lambdas/core/auth/admin-key';
import { parseSecretList } from '../../lambdas/adapters/secrets/env-secret-provider';
import { loadIngestConfig, loadOutboundConfig, loadRetentionDays } from '../../lambdas/config';
import { parseAllowedTargets } from '../../lambdas/core/outbound/target-address-policy';
import type { LocalOutboundSettings } from './lambda-environment';
import { loadConfigFile } from '../config-file';
import { DEFAULT_HTTP_PORT, DEFAULT_WS_PORT, portFromEnv } from './local-settings';

type Environment = NodeJS.ProcessEnv;

/** The checked settings `bin/local.ts` starts the runtime with. */
export interface LocalRuntimeSettings {
  config: HookhubConfig;
  port: number;
  wsPort: number;
  logLevel: string;
  retentionDays: number;
  fsync: boolean;
  outbound: LocalOutboundSettings;
}

/** Loopback is reachable by default locally: the receivers a developer runs sit on this machine. */
export const LOCAL_ALLOWED_TARGETS = '127.0.0.0/8,::1/128';

export type StartupCheckResult = { ok: true; settings: LocalRuntimeSettings } | { ok: false; problems: string[] };

/** Call after applyDevelopmentDefaults(), so the demo source's documented dev secret counts as set. */
export function checkStartupSettings(environment: Environment = process.env): StartupCheckResult {
  const problems: string[] = [];
  // Each check runs even when an earlier one failed, so every problem is reported in one go.
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      problems.push(...oneLinePerProblem(error.message));
      return undefined;
    }
  };

  const config = attempt(() => loadConfigFile(environment.HOOKHUB_CONFIG || undefined));
  if (config) problems.push(...checkSourceSecrets(config, environment));
  problems.push(...checkAdminKey(environment.HOOKHUB_ADMIN_KEY, 'HOOKHUB_ADMIN_KEY'));
  const port = attempt(() => portFromEnv('PORT', DEFAULT_HTTP_PORT, environment));
  const wsPort = attempt(() => portFromEnv('WS_PORT', DEFAULT_WS_PORT, environment));
  if (port !== undefined && port !== 0 && port === wsPort) problems.push(`PORT and WS_PORT are both ${port}; they must differ`);
  const logLevel = attempt(() => logLevelFromEnv(environment));
  attempt(() => maxBodyBytesFromEnv(environment));
  const retentionDays = attempt(() => loadRetentionDays(environment));
  const fsync = attempt(() => fsyncFromEnv(environment));
  const outbound = attempt(() => outboundFromEnv(environment));

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: { config: config!, port: port!, wsPort: wsPort!, logLevel: logLevel!, retentionDays: retentionDays!, fsync: fsync!, outbound: outbound! },
  };
}

/** Every source that verifies needs a secret in its variable, and each secret must be one its scheme can use. */
export function checkSourceSecrets(config: HookhubConfig, environment: Environment): string[] {
  return config.sources.flatMap((source) => checkSourceSecret(source, environment));
}

function checkSourceSecret(source: SourceDefinition, environment: Environment): string[] {
  const { scheme } = source.verification;
  if (scheme === 'none') return [];
  if (source.preset === 'ably') return checkAblySecrets(source, environment);
  const variable = source.secret?.env;
  if (!variable) {
    return [`source "${source.id}" names no secret.env variable; the local runtime reads source secrets from the environment`];
  }
  const raw = environment[variable];
  if (raw === undefined) return [`${variable} is not set (source "${source.id}" needs its secret)`];
  const secrets = parseSecretList(raw);
  if (secrets.length === 0) return [`${variable} is empty (source "${source.id}" needs its secret)`];
  if (scheme !== 'standard-webhooks') return []; // hmac keys and shared tokens may be any non-empty string.

  // The secret's value never appears in a message: only its position when several are set for rotation.
  return secrets.flatMap((secret, index) => {
    try {
      standardWebhooksKey(secret);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      const which = secrets.length > 1 ? `secret ${index + 1} of ${secrets.length} in ${variable}` : variable;
      return [`${which} cannot be used by source "${source.id}": ${error.message}`];
    }
  });
}

/** An Ably source needs its API key(s) in `keyName:keySecret` form, and the single-mode token if it names one. */
function checkAblySecrets(source: SourceDefinition, environment: Environment): string[] {
  const variable = source.secret?.env;
  if (!variable) return [`source "${source.id}" names no secret.env variable for its Ably API key`];
  const keys = parseSecretList(environment[variable]);
  if (keys.length === 0) return [`${variable} is not set (source "${source.id}" needs its Ably API key, "appId.keyId:keySecret")`];
  const problems = keys.flatMap((key, index) =>
    /^[^:\s]+\.[^:\s]+:.+$/.test(key) ? [] : [`${keys.length > 1 ? `key ${index + 1} of ${keys.length} in ${variable}` : variable} is not an Ably API key ("appId.keyId:keySecret", as the Ably dashboard shows it)`],
  );
  const token = (source.options as AblyOptions).singleModeToken;
  if (token?.secret.env && parseSecretList(environment[token.secret.env]).length === 0) {
    problems.push(`${token.secret.env} is not set (source "${source.id}" accepts single-mode requests with its token)`);
  }
  return problems;
}

/** An admin key the read API and WebSocket would refuse on every request (they enforce the same minimum). */
export function checkAdminKey(key: string | undefined, where: string): string[] {
  if (!key || key.length >= MIN_ADMIN_KEY_LENGTH) return [];
  return [`${where} is ${key.length} characters; it must be at least ${MIN_ADMIN_KEY_LENGTH}`];
}

function logLevelFromEnv(environment: Environment): string {
  const raw = environment.HOOKHUB_LOG_LEVEL;
  if (raw === undefined || raw === '') return 'WARN';
  const levels = Object.keys(LogLevel);
  if (!levels.includes(raw.toUpperCase())) {
    throw new ConfigurationError(`HOOKHUB_LOG_LEVEL is "${raw}"; use one of ${levels.join(', ')}`);
  }
  return raw.toUpperCase();
}

/**
 * The ingest Lambda reads HOOKHUB_MAX_BODY_BYTES at its cold start. Its own parser is called here so the local
 * check cannot drift from it; the two variables it also requires are supplied by the runtime later, so neutral
 * stand-ins are passed for them.
 */
function maxBodyBytesFromEnv(environment: Environment): number {
  return loadIngestConfig({
    HOOKHUB_MAX_BODY_BYTES: environment.HOOKHUB_MAX_BODY_BYTES,
    HOOKHUB_SOURCES: JSON.stringify({ sources: [{ id: 'startup-check', verification: { scheme: 'none' }, insecure: true }] }),
    HOOKHUB_INBOUND_QUEUE_URL: 'http://127.0.0.1/startup-check',
  }).maxBodyBytes;
}

/**
 * The delivery settings, read by the Lambdas' own parser (stand-ins for the names the runtime supplies later) and
 * the SSRF guard's CIDR parser, so a typo in HOOKHUB_ALLOW_PRIVATE_TARGETS stops the start instead of every delivery.
 */
function outboundFromEnv(environment: Environment): LocalOutboundSettings {
  const standIn = 'startup-check';
  const parsed = loadOutboundConfig({
    ...Object.fromEntries(
      ['ENDPOINTS', 'MESSAGES', 'DELIVERIES', 'ATTEMPTS', 'EVENT_TYPES', 'CONNECTIONS'].map((name) => [`HOOKHUB_${name}_TABLE`, standIn]),
    ),
    HOOKHUB_DELIVERY_QUEUE_URL: standIn,
    HOOKHUB_WS_CALLBACK_URL: standIn,
    HOOKHUB_OUTBOUND_RETENTION_DAYS: environment.HOOKHUB_OUTBOUND_RETENTION_DAYS,
    HOOKHUB_ALLOW_PRIVATE_TARGETS: environment.HOOKHUB_ALLOW_PRIVATE_TARGETS ?? LOCAL_ALLOWED_TARGETS,
    HOOKHUB_OUTBOUND_HTTPS_ONLY: environment.HOOKHUB_OUTBOUND_HTTPS_ONLY,
    HOOKHUB_DELIVERY_TIMEOUT_MS: environment.HOOKHUB_DELIVERY_TIMEOUT_MS,
  });
  parseAllowedTargets(parsed.allowPrivateTargets);
  return {
    retentionDays: parsed.retentionDays,
    allowPrivateTargets: parsed.allowPrivateTargets,
    httpsOnly: parsed.httpsOnly,
    timeoutMs: parsed.timeoutMs,
    endpointCacheMs: parsed.endpointCacheMs,
  };
}

/** Anything but 0 or 1 is refused: a "true" that silently meant "off" would lose the durability it asked for. */
function fsyncFromEnv(environment: Environment): boolean {
  const raw = environment.HOOKHUB_QUEUE_FSYNC;
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new ConfigurationError(`HOOKHUB_QUEUE_FSYNC is "${raw}"; use 1 (fdatasync every write) or 0 (off)`);
}

/** The config parser lists its issues on indented lines under a heading; each becomes its own line. */
function oneLinePerProblem(message: string): string[] {
  const [heading = '', ...details] = message.split('\n');
  if (details.length === 0) return [heading];
  const prefix = heading.replace(/:\s*$/, '');
  return details.map((detail) => `${prefix}: ${detail.trim()}`);
}
