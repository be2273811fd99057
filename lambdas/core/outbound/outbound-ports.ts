/**
 * The side effects outbound delivery needs, as small interfaces: DynamoDB adapters implement them on AWS and
 * locally (lambdas/adapters/dynamodb), in-memory fakes in unit tests.
 */
import type { Attempt, AuditRecord, Delivery, DeliveryTask, Endpoint, EventTypeEntry, OutboundMessage } from './outbound-model';

export interface Page<T> {
  items: T[];
  /** Opaque; absent on the last page. */
  cursor?: string;
}

/** The fields an operator sets (POST/PATCH /api/endpoints); everything else is kept by hookhub. */
export type EndpointSettings = Pick<
  Endpoint,
  'url' | 'description' | 'eventTypes' | 'sources' | 'headers' | 'rateLimitPerSecond' | 'retrySchedule' | 'failureThreshold' | 'disabled'
>;

export interface EndpointStore {
  /** Fails if the id exists (ids are random: it never does in practice). */
  create(endpoint: Endpoint): Promise<void>;
  get(id: string): Promise<Endpoint | undefined>;
  /** Oldest first. Endpoints are few (hundreds), so a page is large. */
  list(options: { limit: number; cursor?: string }): Promise<Page<Endpoint>>;
  /**
   * Applies the given settings (a key whose value is `undefined` removes that optional setting). Enabling a disabled
   * endpoint also clears its failure run (consecutiveFailures, failingSince, disabledReason, disabledAt).
   * Returns the endpoint after the change, or undefined if there is none with this id.
   */
  update(id: string, changes: Partial<EndpointSettings>, updatedAt: string): Promise<Endpoint | undefined>;
  /** True if it existed. */
  delete(id: string): Promise<boolean>;
  /**
   * Replaces the secret list (the new secret first, the old one with its expiry) if the current secret is still
   * `expectedCurrent` (two rotations at once must not drop a secret one of them already handed out): throws
   * ConflictError if it is not. Undefined if there is no endpoint.
   */
  setSecrets(id: string, secrets: Endpoint['secrets'], updatedAt: string, expectedCurrent: string): Promise<Endpoint | undefined>;
  /**
   * Records a successful delivery: consecutiveFailures 0, failingSince removed, lastSuccessAt set. Returns the
   * consecutive failures it had before (so the caller can tell a recovery), or undefined if the endpoint is gone.
   */
  recordSuccess(id: string, at: string): Promise<{ previousConsecutiveFailures: number } | undefined>;
  /** Adds `count` failures to the run (failingSince set if absent), lastFailureAt set; returns the endpoint after. */
  recordFailures(id: string, count: number, at: string): Promise<Endpoint | undefined>;
  /**
   * Disables an endpoint that is enabled; false if it was already disabled or is gone. Exactly one caller wins, so
   * `endpoint.disabled` is emitted once.
   */
  disable(id: string, reason: string, at: string): Promise<boolean>;
}

export interface MessageStore {
  /** Unconditional: a message id is written once by the publisher that made it (a retry writes the same item). */
  put(message: OutboundMessage): Promise<void>;
  get(id: string): Promise<OutboundMessage | undefined>;
  /** Those that exist, in any order. */
  getMany(ids: readonly string[]): Promise<OutboundMessage[]>;
}

export type IdempotencyBegin =
  | { started: true }
  | { started: false; messageId: string; state: 'pending' | 'done'; startedAt: string };

/** Idempotency keys of POST /api/messages, kept 24 h. */
export interface IdempotencyStore {
  /** Claims the key for `messageId` (state pending) unless it exists: then answers what it holds. */
  begin(key: string, messageId: string, startedAt: string, expiresAt: number): Promise<IdempotencyBegin>;
  /**
   * Takes over a pending claim whose publisher seems to have died: moves its `startedAt` to `startedAt` only if it
   * still reads `expectedStartedAt` and is pending. True for the one caller that wins.
   */
  takeOver(key: string, expectedStartedAt: string, startedAt: string): Promise<boolean>;
  /** Marks the key's message as fully accepted (queued for every endpoint). */
  complete(key: string): Promise<void>;
}

export interface DeliveryListOptions {
  limit: number;
  cursor?: string;
  /** Only deliveries of messages published at or after this ISO time. */
  since?: string;
}

/** Hourly counters of one endpoint (stats over 24 h / 7 d without reading every attempt). */
export interface EndpointHourStats {
  /** `YYYY-MM-DDTHH`, UTC. */
  hour: string;
  succeeded: number;
  failed: number;
  /** Count per duration bucket (see duration-histogram.ts), keyed by bucket index. */
  durationBuckets: Record<number, number>;
}

/** Deliveries, attempts and per-endpoint hourly stats. */
export interface DeliveryLog {
  /**
   * Writes deliveries (replacing the previous state of each (endpoint, message)), attempt records and message
   * records, batched: no condition is needed because a delivery's state is only ever written by the one try that
   * holds its task, and a message record is the same whoever writes it.
   */
  record(entries: { deliveries: readonly Delivery[]; attempts: readonly Attempt[]; messages?: readonly OutboundMessage[] }): Promise<void>;
  getDelivery(endpointId: string, messageId: string): Promise<Delivery | undefined>;
  /** One endpoint's deliveries, oldest message first. */
  listDeliveries(endpointId: string, options: DeliveryListOptions): Promise<Page<Delivery>>;
  /** One endpoint's deliveries in a status that a retry can send: exhausted, skipped or failed. Oldest first. */
  listRetryable(endpointId: string, options: { limit: number; cursor?: string }): Promise<Page<Delivery>>;
  /** Attempt log of one endpoint, newest first, optionally only `succeeded` or `failed`. */
  listAttempts(endpointId: string, options: { limit: number; cursor?: string; status?: Attempt['status'] }): Promise<Page<Attempt>>;
  getAttempt(attemptId: string): Promise<Attempt | undefined>;
  /** Adds to the endpoint's counters for the hour (one update per endpoint per batch). */
  addHourStats(endpointId: string, stats: EndpointHourStats, expiresAt: number): Promise<void>;
  /** The hourly counters from `sinceHour` (inclusive) on. */
  hourStats(endpointId: string, sinceHour: string): Promise<EndpointHourStats[]>;
}

/** Per-endpoint deliveries per second, shared by every worker (a fixed one-second window in DynamoDB). */
export interface RateLimiter {
  /** Takes up to `wanted` of this second's `limitPerSecond` deliveries; returns how many it got (0..wanted). */
  take(endpointId: string, wanted: number, limitPerSecond: number, nowMs: number): Promise<number>;
}

export interface AuditLog {
  append(record: AuditRecord): Promise<void>;
  /** Newest first. */
  list(options: { limit: number; cursor?: string }): Promise<Page<AuditRecord>>;
}

export interface EventTypeCatalog {
  /** Notes that messages of these types were published (firstSeenAt kept, lastSeenAt moved). */
  recordSeen(entries: readonly { name: string; source: string }[], at: string): Promise<void>;
  /** Every type seen, with firstSeenAt/lastSeenAt (declared types come from config, not from here). */
  listSeen(): Promise<EventTypeEntry[]>;
}

/** The delivery queue. */
export interface DeliveryQueue {
  /** Resolves once every task is durably queued; rejects if any was not. `delaySeconds` is at most 900. */
  send(tasks: readonly { task: DeliveryTask; delaySeconds: number }[]): Promise<void>;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export type SendResult =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: string; durationMs: number }
  /** Refused before connecting (SSRF guard, https-only) or failed on the network (DNS, connect, reset, timeout). */
  | { kind: 'error'; error: string; timedOut: boolean; refused: boolean; durationMs: number };

/** Sends one webhook request: resolves the host, refuses non-global addresses, connects to the checked address. */
export interface WebhookSender {
  send(request: OutgoingRequest): Promise<SendResult>;
}

/** Checks an endpoint URL at create/update time (the sender checks again at send time). */
export interface TargetUrlGuard {
  /** Throws BadRequestError naming why the URL is refused. */
  check(url: string): Promise<void>;
}
