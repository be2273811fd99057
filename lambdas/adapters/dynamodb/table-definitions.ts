/**
 * The DynamoDB tables as plain data: the single source of truth read by the CDK storage construct (to declare them
 * on AWS), the local runtime (to create them in dynalite) and the adapters (for key and index names).
 * See docs/decisions.md for why the keys and indexes look like this.
 */
export type AttributeType = 'S' | 'N';

/** DynamoDB's largest item, attribute names and values together: 400 KB, counted as 1,024 bytes per KB. */
export const MAX_ITEM_BYTES = 400 * 1024;

/** Room in an event item for everything but the body: ids, index keys, lastError, kept headers (as UTF-8, up to twice their wire size). */
const EVENT_ITEM_RESERVE_BYTES = 64 * 1024;

/**
 * The largest request body whose event item always fits. The event store keeps a UTF-8 body as its own bytes and
 * any other body as base64, 4/3 of its bytes; the limit is set by the latter.
 */
export const MAX_STORABLE_BODY_BYTES = 3 * Math.floor((MAX_ITEM_BYTES - EVENT_ITEM_RESERVE_BYTES) / 4);

export interface KeyAttribute {
  name: string;
  type: AttributeType;
}

export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** KEYS_ONLY keeps index writes small; INCLUDE adds the attributes a filter needs. */
  projection: { type: 'KEYS_ONLY' } | { type: 'ALL' } | { type: 'INCLUDE'; attributes: string[] };
}

export interface TableDefinition {
  /** Construct id on AWS, table name prefix locally. */
  logicalName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  timeToLiveAttribute: string;
  indexes: IndexDefinition[];
}

/**
 * Events: one item per event, keyed by hookhub's deterministic event id (so a conditional write deduplicates).
 * Listing walks day buckets newest first: `byDay` holds every event and projects `source` and `status` for list
 * filters; `byStatusDay` is sparse, holding only events that are not processed (failed, or of the previous shape
 * still `received`), so the happy path writes one index entry. Day buckets spread writes over days instead of one
 * hot partition per status or source. See docs/decisions.md, "One write per event".
 */
export const EVENTS_TABLE = {
  logicalName: 'Events',
  partitionKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [
    {
      indexName: 'byDay',
      partitionKey: { name: 'day', type: 'S' },
      sortKey: { name: 'receivedAtId', type: 'S' },
      projection: { type: 'INCLUDE', attributes: ['source', 'status'] },
    },
    {
      indexName: 'byStatusDay',
      partitionKey: { name: 'statusDay', type: 'S' },
      sortKey: { name: 'receivedAtId', type: 'S' },
      projection: { type: 'KEYS_ONLY' },
    },
  ],
} as const satisfies TableDefinition;

/**
 * Connections: per connection one `connection` item plus one `channel#<pattern>` item per subscription. The sparse
 * `byChannel` index answers "who listens to any of these patterns" with one Query per pattern.
 */
export const CONNECTIONS_TABLE = {
  logicalName: 'Connections',
  partitionKey: { name: 'connectionId', type: 'S' },
  sortKey: { name: 'entry', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [
    {
      indexName: 'byChannel',
      partitionKey: { name: 'channel', type: 'S' },
      sortKey: { name: 'connectionId', type: 'S' },
      projection: { type: 'KEYS_ONLY' },
    },
  ],
} as const satisfies TableDefinition;

/** Outbound endpoints: few (hundreds), read through a short cache by publishers and the delivery worker. */
export const ENDPOINTS_TABLE = {
  logicalName: 'Endpoints',
  partitionKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [],
} as const satisfies TableDefinition;

/** Outbound messages by id (`msg_` + time-ordered id); read back by replay and manual retries. */
export const MESSAGES_TABLE = {
  logicalName: 'Messages',
  partitionKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [],
} as const satisfies TableDefinition;

/**
 * Deliveries: one item per (endpoint, message), the endpoint's partition sorted by the time-ordered message id, so
 * "since a time" is a key range (replay). The sparse `byEndpointRetryable` index holds only deliveries a retry can
 * send (exhausted, skipped, failed): retry-failed reads those without walking the successes.
 */
export const DELIVERIES_TABLE = {
  logicalName: 'Deliveries',
  partitionKey: { name: 'endpointId', type: 'S' },
  sortKey: { name: 'messageId', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [
    {
      indexName: 'byEndpointRetryable',
      partitionKey: { name: 'retryableEndpointId', type: 'S' },
      sortKey: { name: 'messageId', type: 'S' },
      projection: { type: 'KEYS_ONLY' },
    },
  ],
} as const satisfies TableDefinition;

/**
 * One endpoint's activity under its id: attempt records (`entry` = `atm_` + time-ordered id), hourly stats
 * (`hour#YYYY-MM-DDTHH`) and rate-limit windows (`rate#<epoch second>`). The sparse `byAttemptId` index finds an
 * attempt by its id alone (POST /api/attempts/{id}/retry).
 */
export const ATTEMPTS_TABLE = {
  logicalName: 'Attempts',
  partitionKey: { name: 'endpointId', type: 'S' },
  sortKey: { name: 'entry', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [
    {
      indexName: 'byAttemptId',
      partitionKey: { name: 'attemptId', type: 'S' },
      projection: { type: 'KEYS_ONLY' },
    },
  ],
} as const satisfies TableDefinition;

/** Idempotency keys of POST /api/messages, expiring after 24 h. */
export const IDEMPOTENCY_TABLE = {
  logicalName: 'IdempotencyKeys',
  partitionKey: { name: 'key', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [],
} as const satisfies TableDefinition;

/** Audit records in day partitions, sorted by time-ordered id: newest first is a backwards walk over days. */
export const AUDIT_TABLE = {
  logicalName: 'Audit',
  partitionKey: { name: 'day', type: 'S' },
  sortKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [],
} as const satisfies TableDefinition;

/** Event types seen in published messages (the catalog's `seen` half; declared types come from config). */
export const EVENT_TYPES_TABLE = {
  logicalName: 'EventTypes',
  partitionKey: { name: 'name', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [],
} as const satisfies TableDefinition;

export const OUTBOUND_TABLE_DEFINITIONS = [
  ENDPOINTS_TABLE,
  MESSAGES_TABLE,
  DELIVERIES_TABLE,
  ATTEMPTS_TABLE,
  IDEMPOTENCY_TABLE,
  AUDIT_TABLE,
  EVENT_TYPES_TABLE,
] as const satisfies readonly TableDefinition[];

/**
 * The Ably message log: one item per stored channel message, keyed by hookhub's event id (so a retried processing
 * step stores it once). `byChannel` lists one channel newest first; `byDay` (day of the Ably timestamp) lists every
 * channel newest first, a day at a time. Both project everything: the log is read far more than it is written, and a
 * KEYS_ONLY index would cost a BatchGetItem per page.
 */
export const ABLY_MESSAGES_TABLE = {
  logicalName: 'AblyMessages',
  partitionKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [
    {
      indexName: 'byChannel',
      partitionKey: { name: 'sourceChannel', type: 'S' },
      sortKey: { name: 'timestampId', type: 'S' },
      projection: { type: 'ALL' },
    },
    {
      indexName: 'byDay',
      partitionKey: { name: 'sourceDay', type: 'S' },
      sortKey: { name: 'timestampId', type: 'S' },
      projection: { type: 'ALL' },
    },
  ],
} as const satisfies TableDefinition;

/**
 * The Ably preset's small state: per channel the history cursor and lease (`pk` = `cursor#<source>`, `sk` =
 * channel), per channel the message counters (`stats#<source>`, channel), and the sync runs (`runs`, `<startedAt>#<runId>`).
 */
export const ABLY_STATE_TABLE = {
  logicalName: 'AblyState',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  indexes: [],
} as const satisfies TableDefinition;

export const ABLY_TABLE_DEFINITIONS = [ABLY_MESSAGES_TABLE, ABLY_STATE_TABLE] as const satisfies readonly TableDefinition[];

export const TABLE_DEFINITIONS: readonly TableDefinition[] = [EVENTS_TABLE, CONNECTIONS_TABLE, ...OUTBOUND_TABLE_DEFINITIONS, ...ABLY_TABLE_DEFINITIONS];
