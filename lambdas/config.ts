/**
 * Reads the environment once per cold start. Each handler asks only for what it uses, and a missing or invalid
 * variable fails the cold start with the variable's name instead of a confusing error on the first request.
 */
import { ConfigurationError } from './core/errors';
import { parseDeclaredEventTypes, parseHookhubConfig, type DeclaredEventType, type HookhubConfig } from './core/sources/source-definition';
import { DEFAULT_MAX_BODY_BYTES } from './core/events/accept-inbound';
import { MAX_QUEUEABLE_BODY_BYTES } from './adapters/sqs/sqs-inbound-queue';
import { MAX_STORABLE_BODY_BYTES } from './adapters/dynamodb/table-definitions';

type Environment = NodeJS.ProcessEnv;

export function requireEnv(name: string, environment: Environment = process.env): string {
  const value = environment[name];
  if (!value) throw new ConfigurationError(`environment variable ${name} is required`);
  return value;
}

function integerEnv(name: string, fallback: number, min: number, max: number, environment: Environment, why = ''): number {
  const raw = environment[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`environment variable ${name} must be an integer from ${min} to ${max}${why}`);
  }
  return value;
}

/**
 * The largest body limit that can be honoured: every accepted body must fit the queue message and the stored
 * item, whatever its characters. The item is the tighter bound (252 KiB).
 */
export const MAX_BODY_BYTES_SETTING = Math.min(MAX_STORABLE_BODY_BYTES, MAX_QUEUEABLE_BODY_BYTES);

function jsonEnv(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new ConfigurationError(`environment variable ${name} is not valid JSON`, { cause: error });
  }
}

export function loadSources(environment: Environment = process.env): HookhubConfig {
  return parseHookhubConfig(jsonEnv('HOOKHUB_SOURCES', requireEnv('HOOKHUB_SOURCES', environment)));
}

export type SecretsBackend = 'env' | 'secrets-manager';

export function loadSecretsBackend(environment: Environment = process.env): SecretsBackend {
  const backend = environment.HOOKHUB_SECRETS_BACKEND ?? 'env';
  if (backend !== 'env' && backend !== 'secrets-manager') {
    throw new ConfigurationError('environment variable HOOKHUB_SECRETS_BACKEND must be env or secrets-manager');
  }
  return backend;
}

export function loadIngestConfig(environment: Environment = process.env) {
  return {
    sources: loadSources(environment),
    inboundQueueUrl: requireEnv('HOOKHUB_INBOUND_QUEUE_URL', environment),
    secretsBackend: loadSecretsBackend(environment),
    maxBodyBytes: integerEnv(
      'HOOKHUB_MAX_BODY_BYTES',
      DEFAULT_MAX_BODY_BYTES,
      1,
      MAX_BODY_BYTES_SETTING,
      environment,
      ` (a larger body could not always be stored: a DynamoDB item holds 400 KiB, and a body that is not UTF-8 is kept as base64)`,
    ),
  };
}

export function loadRetentionDays(environment: Environment = process.env): number {
  return integerEnv('HOOKHUB_RETENTION_DAYS', 30, 1, 3650, environment);
}

export function loadWorkerConfig(environment: Environment = process.env) {
  return {
    sources: loadSources(environment),
    eventsTable: requireEnv('HOOKHUB_EVENTS_TABLE', environment),
    connectionsTable: requireEnv('HOOKHUB_CONNECTIONS_TABLE', environment),
    websocketCallbackUrl: requireEnv('HOOKHUB_WS_CALLBACK_URL', environment),
    retentionDays: loadRetentionDays(environment),
  };
}

export function loadRealtimeConfig(environment: Environment = process.env) {
  return {
    connectionsTable: requireEnv('HOOKHUB_CONNECTIONS_TABLE', environment),
    websocketCallbackUrl: requireEnv('HOOKHUB_WS_CALLBACK_URL', environment),
    adminKey: loadAdminKeyLocation(environment),
  };
}

export function loadReadApiConfig(environment: Environment = process.env) {
  return {
    eventsTable: requireEnv('HOOKHUB_EVENTS_TABLE', environment),
    inboundQueueUrl: requireEnv('HOOKHUB_INBOUND_QUEUE_URL', environment),
    deadLetterQueueUrl: requireEnv('HOOKHUB_DEAD_LETTER_QUEUE_URL', environment),
    retentionDays: loadRetentionDays(environment),
    adminKey: loadAdminKeyLocation(environment),
  };
}

/** Where the admin key lives: the value itself (local runtime) or a Secrets Manager secret (AWS). */
export type AdminKeyLocation = { value: string } | { secretId: string };

export function loadAdminKeyLocation(environment: Environment = process.env): AdminKeyLocation {
  if (environment.HOOKHUB_ADMIN_KEY) return { value: environment.HOOKHUB_ADMIN_KEY };
  if (environment.HOOKHUB_ADMIN_KEY_SECRET) return { secretId: environment.HOOKHUB_ADMIN_KEY_SECRET };
  throw new ConfigurationError('set HOOKHUB_ADMIN_KEY (local) or HOOKHUB_ADMIN_KEY_SECRET (a Secrets Manager secret id)');
}

/**
 * What publishing an outbound message needs: the endpoints (to match), the messages and event types tables, the
 * delivery queue. The inbound worker has only this (it publishes each event as a message).
 */
export function loadPublisherConfig(environment: Environment = process.env) {
  return {
    endpointsTable: requireEnv('HOOKHUB_ENDPOINTS_TABLE', environment),
    messagesTable: requireEnv('HOOKHUB_MESSAGES_TABLE', environment),
    eventTypesTable: requireEnv('HOOKHUB_EVENT_TYPES_TABLE', environment),
    deliveryQueueUrl: requireEnv('HOOKHUB_DELIVERY_QUEUE_URL', environment),
    retentionDays: integerEnv('HOOKHUB_OUTBOUND_RETENTION_DAYS', 30, 1, 3650, environment),
    /** How stale the endpoint cache may be (see endpoint-directory.ts). */
    endpointCacheMs: integerEnv('HOOKHUB_ENDPOINT_CACHE_MS', 1_000, 0, 60_000, environment),
  };
}

export type PublisherConfig = ReturnType<typeof loadPublisherConfig>;

/** Everything a deliverer of outbound webhooks reads (the delivery worker, the management API). */
export function loadOutboundConfig(environment: Environment = process.env) {
  const httpsOnly = environment.HOOKHUB_OUTBOUND_HTTPS_ONLY ?? 'false';
  if (httpsOnly !== 'true' && httpsOnly !== 'false') throw new ConfigurationError('environment variable HOOKHUB_OUTBOUND_HTTPS_ONLY must be true or false');
  return {
    ...loadPublisherConfig(environment),
    deliveriesTable: requireEnv('HOOKHUB_DELIVERIES_TABLE', environment),
    attemptsTable: requireEnv('HOOKHUB_ATTEMPTS_TABLE', environment),
    connectionsTable: requireEnv('HOOKHUB_CONNECTIONS_TABLE', environment),
    websocketCallbackUrl: requireEnv('HOOKHUB_WS_CALLBACK_URL', environment),
    allowPrivateTargets: environment.HOOKHUB_ALLOW_PRIVATE_TARGETS ?? '',
    httpsOnly: httpsOnly === 'true',
    timeoutMs: integerEnv('HOOKHUB_DELIVERY_TIMEOUT_MS', 15_000, 100, 30_000, environment),
    maxInFlightPerEndpoint: integerEnv('HOOKHUB_MAX_IN_FLIGHT_PER_ENDPOINT', 200, 1, 1000, environment),
  };
}

export type OutboundConfig = ReturnType<typeof loadOutboundConfig>;

/** The management API's: the outbound settings plus the idempotency keys and the audit log, which only it uses. */
export function loadManagementConfig(environment: Environment = process.env) {
  return {
    ...loadOutboundConfig(environment),
    idempotencyTable: requireEnv('HOOKHUB_IDEMPOTENCY_TABLE', environment),
    auditTable: requireEnv('HOOKHUB_AUDIT_TABLE', environment),
    declaredEventTypes: loadDeclaredEventTypes(environment),
    adminKey: loadAdminKeyLocation(environment),
  };
}

/** HOOKHUB_EVENT_TYPES (a JSON array) on AWS; locally the runtime passes the config file's `eventTypes` the same way. */
export function loadDeclaredEventTypes(environment: Environment = process.env): DeclaredEventType[] {
  const raw = environment.HOOKHUB_EVENT_TYPES;
  if (raw === undefined || raw === '') return [];
  return parseDeclaredEventTypes(jsonEnv('HOOKHUB_EVENT_TYPES', raw));
}

/** The Ably preset's tables: the message log (written by the worker's processing step) and the sync state. */
export function loadAblyTables(environment: Environment = process.env) {
  return {
    ablyMessagesTable: requireEnv('HOOKHUB_ABLY_MESSAGES_TABLE', environment),
    ablyStateTable: requireEnv('HOOKHUB_ABLY_STATE_TABLE', environment),
  };
}

/**
 * An optional base URL (scheme, host and port) that replaces a provider API's, so tests and local use can point the
 * SDK at a loopback stand-in; absent on AWS.
 */
export function optionalBaseUrl(name: string, environment: Environment = process.env): URL | undefined {
  const raw = environment[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(`environment variable ${name} must be a URL such as http://127.0.0.1:8081`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigurationError(`environment variable ${name} must be an http or https URL`);
  return url;
}

/**
 * The history sync's: the worker's store-once path (it stores what it reads exactly as the worker does, publishing
 * included), the Ably tables, the sources' secrets (the API key) and the REST base URL override.
 */
export function loadAblySyncConfig(environment: Environment = process.env) {
  return {
    ...loadWorkerConfig(environment),
    ...loadAblyTables(environment),
    publisher: loadPublisherConfig(environment),
    secretsBackend: loadSecretsBackend(environment),
    ablyRestUrl: optionalBaseUrl('HOOKHUB_ABLY_REST_URL', environment),
  };
}

export type AblySyncConfig = ReturnType<typeof loadAblySyncConfig>;

/** The Ably API's (message log, stats, sync on demand): the sync's settings and the admin key. */
export function loadAblyApiConfig(environment: Environment = process.env) {
  return { ...loadAblySyncConfig(environment), adminKey: loadAdminKeyLocation(environment) };
}
