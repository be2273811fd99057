/**
 * The environment the handler modules read at import when they run on the local stand-ins: what the stack gives
 * each Lambda, with the stand-ins' endpoints (AWS_ENDPOINT_URL_<SERVICE>, see docs/decisions.md) and local
 * credentials. The local runtime and the cost meter both run the real handlers this way.
 */
import type { HookhubConfig } from '../../lambdas/core/sources/source-definition';

export interface LocalStandIns {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: { events: string; connections: string };
  inboundQueueUrl: string;
  deadLetterQueueUrl: string;
  websocketCallbackUrl: string;
}

export function localLambdaEnvironment(
  standIns: LocalStandIns,
  settings: { config: HookhubConfig; adminKey: string; retentionDays: number; logLevel: string },
): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: standIns.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: standIns.sqsEndpoint,
    HOOKHUB_SOURCES: JSON.stringify(settings.config),
    HOOKHUB_SECRETS_BACKEND: 'env',
    HOOKHUB_EVENTS_TABLE: standIns.tables.events,
    HOOKHUB_CONNECTIONS_TABLE: standIns.tables.connections,
    HOOKHUB_INBOUND_QUEUE_URL: standIns.inboundQueueUrl,
    HOOKHUB_DEAD_LETTER_QUEUE_URL: standIns.deadLetterQueueUrl,
    HOOKHUB_WS_CALLBACK_URL: standIns.websocketCallbackUrl,
    HOOKHUB_ADMIN_KEY: settings.adminKey,
    HOOKHUB_RETENTION_DAYS: String(settings.retentionDays),
    POWERTOOLS_LOG_LEVEL: settings.logLevel,
  };
}
