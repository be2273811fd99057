/**
 * Outbound webhooks as Svix models them: a message (an event the application or an inbound provider published),
 * one delivery per (message, endpoint) with its status, and one attempt record per try. Plain data: the stores
 * keep it, the core decides on it, the management API shows it (without secrets, see toPublicEndpoint).
 */

/** A signing secret, `whsec_` + base64 of 32 random bytes. An old secret keeps signing until `expiresAt` (rotation). */
export interface EndpointSecret {
  secret: string;
  createdAt: string;
  /** ISO time after which this secret no longer signs; absent on the current secret. */
  expiresAt?: string;
}

export interface Endpoint {
  /** `ep_` + time-ordered id. */
  id: string;
  url: string;
  description: string;
  /** Event type patterns: exact (`project.created`), a prefix wildcard (`ably.*`), or `*`. Empty = every type. */
  eventTypes: string[];
  /** Sources a message must come from (`app` for published ones, a source id for inbound ones). Empty = any. */
  sources: string[];
  /** Extra request headers sent with every delivery. */
  headers: Record<string, string>;
  /** Deliveries per second at most; absent = unlimited. */
  rateLimitPerSecond?: number;
  /** Seconds to wait before each retry; absent = the default schedule. */
  retrySchedule?: number[];
  /** Consecutive failures that disable the endpoint. */
  failureThreshold: number;
  disabled: boolean;
  /** Why it is disabled: `manual`, `gone` (410), `failures`, `failing-5-days`. */
  disabledReason?: string;
  disabledAt?: string;
  /** Newest first; the first one is current. */
  secrets: EndpointSecret[];
  createdAt: string;
  updatedAt: string;
  /** Health, kept by the delivery worker. */
  consecutiveFailures: number;
  /** When the current run of failures began (absent while healthy). */
  failingSince?: string;
  lastSuccessAt?: string;
  lastFailureAt?: string;
}

/** Where a message came from: the publish API (`app`), an inbound source's id, or hookhub itself (`hookhub`, ops events). */
export type MessageOrigin = string;

export interface OutboundMessage {
  /** `msg_` + time-ordered id; the `webhook-id` of every delivery of it. */
  id: string;
  eventType: string;
  /** `app` for POST /api/messages, the source id for inbound events, `hookhub` for operational events. */
  source: MessageOrigin;
  /** The JSON payload as sent in the body (the exact bytes signed). */
  payload: string;
  createdAt: string;
  idempotencyKey?: string;
  expiresAt: number;
}

export type DeliveryStatus =
  /** Queued or waiting for a retry. */
  | 'pending'
  | 'succeeded'
  /** Failed all attempts of the schedule. */
  | 'exhausted'
  /** Not sent because the endpoint was disabled; a replay sends it. */
  | 'skipped'
  /** Not sent because the endpoint answered 410 or failed too often: the endpoint was disabled by this delivery. */
  | 'failed';

export interface Delivery {
  endpointId: string;
  messageId: string;
  eventType: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  lastAttemptAt?: string;
  nextAttemptAt?: string;
  lastError?: string;
  lastResponseStatus?: number;
  updatedAt: string;
  expiresAt: number;
}

/** What one try did, as the attempt log shows it. */
export interface Attempt {
  /** `atm_` + time-ordered id. */
  id: string;
  endpointId: string;
  messageId: string;
  eventType: string;
  /** 1-based within the message's delivery to this endpoint (manual retries continue the count). */
  attemptNumber: number;
  /** `succeeded` or `failed`. */
  status: 'succeeded' | 'failed';
  /** `scheduled`, `manual` (retry, replay, test). */
  trigger: 'scheduled' | 'manual' | 'test';
  url: string;
  /** Request headers as sent, signature headers included (they are not secrets), custom headers redacted. */
  requestHeaders: Record<string, string>;
  responseStatus?: number;
  responseHeaders?: Record<string, string>;
  /** First 4 KiB of the response body (UTF-8, lossy). */
  responseBody?: string;
  durationMs: number;
  /** Network error, timeout, SSRF refusal, or `HTTP 500`. */
  error?: string;
  /** When the next try is due, if there is one. */
  nextAttemptAt?: string;
  attemptedAt: string;
  expiresAt: number;
}

/**
 * The delivery queue's message: one try of one message to one endpoint. The payload travels along (messages are
 * at most 256 KiB) so a try needs no read of the message store.
 */
export interface DeliveryTask {
  messageId: string;
  endpointId: string;
  eventType: string;
  source: MessageOrigin;
  payload: string;
  /** The attempt this task makes, 1-based. */
  attemptNumber: number;
  trigger: 'scheduled' | 'manual';
  /** ISO time before which the task must not be tried (delays longer than SQS's 15-minute DelaySeconds). */
  notBefore?: string;
  /** When the message was published, for the publish→delivery latency. */
  createdAt: string;
  /**
   * Set on the first task of a message: the worker that takes it stores the message record in the same batched
   * write as the deliveries, so publishing costs no DynamoDB write of its own (see docs/decisions.md).
   */
  recordMessage?: boolean;
}

/** Operational events: pushed to WebSocket channel `ops` and published as messages of these types. */
export type OperationalEventType =
  | 'endpoint.created'
  | 'endpoint.updated'
  | 'endpoint.deleted'
  | 'endpoint.disabled'
  | 'endpoint.recovered'
  | 'message.attempt.failing'
  | 'message.attempt.exhausted';

export const OPS_CHANNEL = 'ops';

/** An entry of the audit log. */
export interface AuditRecord {
  id: string;
  at: string;
  /** The admin key's id (a short digest prefix, never the key). */
  actor: string;
  action: string;
  /** What it acted on, e.g. `endpoint:ep_...`. */
  target: string;
  sourceIp?: string;
  userAgent?: string;
  /** Small, secret-free detail (changed field names, counts). */
  details?: Record<string, unknown>;
  expiresAt: number;
}

/** An event type in the catalog: declared in config (with description and example) and/or seen in traffic. */
export interface EventTypeEntry {
  name: string;
  description?: string;
  example?: unknown;
  declared: boolean;
  firstSeenAt?: string;
  lastSeenAt?: string;
}
