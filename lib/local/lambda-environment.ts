/**
 * The environment the handler modules read at import when they run on the local stand-ins: what the stack gives
 * each Lambda, with the stand-ins' endpoints (AWS_ENDPOINT_URL_<SERVICE>, see docs/decisions.md) and local
 * credentials. The local runtime and the cost meter both run the real handlers this way.
 */
import type { HookhubConfig } from '../../lambdas/core/sources/source-definition';

export interface LocalStandIns {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: LocalTableNames;
  inboundQueueUrl: string;
  deadLetterQueueUrl: string;
  deliveryQueueUrl: string;
  websocketCallbackUrl: string;
}

export interface LocalTableNames {
  events: string;
  connections: string;
  endpoints: string;
  messages: string;
  deliveries: string;
  attempts: string;
  idempotencyKeys: string;
  audit: string;
  eventTypes: string;
  ablyMessages: string;
  ablyState: string;
}

/** Outbound settings the runtime passes to the handlers (see loadOutboundConfig in lambdas/config.ts). */
export interface LocalOutboundSettings {
  retentionDays: number;
  /** CIDRs the delivery worker may reach though they are not global (HOOKHUB_ALLOW_PRIVATE_TARGETS). */
  allowPrivateTargets: string;
  httpsOnly: boolean;
  timeoutMs: number;
  endpointCacheMs: number;
}

export function localLambdaEnvironment(
  standIns: LocalStandIns,
  settings: { config: HookhubConfig; adminKey: string; retentionDays: number; logLevel: string; outbound: LocalOutboundSettings },
): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: standIns.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: standIns.sqsEndpoint,
    HOOKHUB_SOURCES: JSON.stringify({ ...settings.config, eventTypes: [] }),
    HOOKHUB_EVENT_TYPES: JSON.stringify(settings.config.eventTypes),
    HOOKHUB_SECRETS_BACKEND: 'env',
    HOOKHUB_EVENTS_TABLE: standIns.tables.events,
    HOOKHUB_CONNECTIONS_TABLE: standIns.tables.connections,
    HOOKHUB_INBOUND_QUEUE_URL: standIns.inboundQueueUrl,
    HOOKHUB_DEAD_LETTER_QUEUE_URL: standIns.deadLetterQueueUrl,
    HOOKHUB_WS_CALLBACK_URL: standIns.websocketCallbackUrl,
    HOOKHUB_ENDPOINTS_TABLE: standIns.tables.endpoints,
    HOOKHUB_MESSAGES_TABLE: standIns.tables.messages,
    HOOKHUB_DELIVERIES_TABLE: standIns.tables.deliveries,
    HOOKHUB_ATTEMPTS_TABLE: standIns.tables.attempts,
    HOOKHUB_IDEMPOTENCY_TABLE: standIns.tables.idempotencyKeys,
    HOOKHUB_AUDIT_TABLE: standIns.tables.audit,
    HOOKHUB_EVENT_TYPES_TABLE: standIns.tables.eventTypes,
    HOOKHUB_DELIVERY_QUEUE_URL: standIns.deliveryQueueUrl,
    HOOKHUB_ABLY_MESSAGES_TABLE: standIns.tables.ablyMessages,
    HOOKHUB_ABLY_STATE_TABLE: standIns.tables.ablyState,
    HOOKHUB_OUTBOUND_RETENTION_DAYS: String(settings.outbound.retentionDays),
    HOOKHUB_ALLOW_PRIVATE_TARGETS: settings.outbound.allowPrivateTargets,
    HOOKHUB_OUTBOUND_HTTPS_ONLY: String(settings.outbound.httpsOnly),
    HOOKHUB_DELIVERY_TIMEOUT_MS: String(settings.outbound.timeoutMs),
    HOOKHUB_ENDPOINT_CACHE_MS: String(settings.outbound.endpointCacheMs),
    HOOKHUB_ADMIN_KEY: settings.adminKey,
    HOOKHUB_RETENTION_DAYS: String(settings.retentionDays),
    POWERTOOLS_LOG_LEVEL: settings.logLevel,
  };
}
