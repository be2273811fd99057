/**
 * DeliveryLog over two tables (see table-definitions.ts): Deliveries, one item per (endpoint, message) sorted by
 * the time-ordered message id, and Attempts, which holds one endpoint's attempt records (`atm_…`) beside its hourly
 * counters (`hour#…`). A delivery item carries `retryableEndpointId` only while its status is one a retry can send,
 * so the sparse `byEndpointRetryable` index holds nothing else; an attempt item carries `attemptId` for the sparse
 * `byAttemptId` index (hourly counters and rate windows have none).
 */
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Attempt, Delivery, DeliveryStatus, OutboundMessage } from '../../core/outbound/outbound-model';
import type { DeliveryListOptions, DeliveryLog, EndpointHourStats, Page } from '../../core/outbound/outbound-ports';
import { BadRequestError } from '../../core/errors';
import { ATTEMPTS_TABLE, DELIVERIES_TABLE } from './table-definitions';
import { batchGetItems, batchWriteItems } from './batch-operations';
import { decodePageCursor, encodePageCursor, idPattern } from './page-cursor';

const RETRYABLE: ReadonlySet<DeliveryStatus> = new Set(['exhausted', 'skipped', 'failed']);
const ATTEMPT_PREFIX = 'atm_';
const HOUR_PREFIX = 'hour#';
/** Sorts after every `hour#YYYY-…` entry and before `rate#…`: the upper bound of an hour range. */
const HOUR_RANGE_END = `${HOUR_PREFIX}~`;
/** Queries one attempt listing may make: a rare status filter answers with a cursor, not a long walk. */
const MAX_ATTEMPT_QUERIES = 4;
/** Entries a filtered attempt query reads at a time (Limit counts before the filter). */
const FILTERED_READ_LIMIT = 100;

const AFTER_MESSAGE = { after: { pattern: idPattern('msg_') } };
const BEFORE_ATTEMPT = { before: { pattern: idPattern(ATTEMPT_PREFIX) } };

export interface DeliveryLogTables {
  deliveriesTable: string;
  attemptsTable: string;
  /** Where message records written along with deliveries go (the delivery worker's first try of a message). */
  messagesTable?: string;
}

export class DynamoDbDeliveryLog implements DeliveryLog {
  private readonly deliveriesTable: string;
  private readonly attemptsTable: string;
  private readonly messagesTable: string | undefined;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    tables: DeliveryLogTables,
  ) {
    this.deliveriesTable = tables.deliveriesTable;
    this.attemptsTable = tables.attemptsTable;
    this.messagesTable = tables.messagesTable;
  }

  /**
   * One BatchWriteItem per 25 items, deliveries and attempts together. Unconditional puts: a delivery's state is
   * written only by the one try that holds its task. A key given twice is written once (its last state), since
   * DynamoDB refuses a request naming one key twice.
   */
  async record(entries: { deliveries: readonly Delivery[]; attempts: readonly Attempt[]; messages?: readonly OutboundMessage[] }): Promise<void> {
    const deliveries = new Map(entries.deliveries.map((delivery) => [`${delivery.endpointId}\n${delivery.messageId}`, delivery]));
    const attempts = new Map(entries.attempts.map((attempt) => [attempt.id, attempt]));
    const messages = new Map((entries.messages ?? []).map((message) => [message.id, message]));
    if (messages.size > 0 && this.messagesTable === undefined) throw new Error('message records need the messages table');
    await batchWriteItems(this.documents, [
      ...[...messages.values()].map((message) => ({ tableName: this.messagesTable!, request: { PutRequest: { Item: withoutUndefined(message) } } })),
      ...[...deliveries.values()].map((delivery) => ({ tableName: this.deliveriesTable, request: { PutRequest: { Item: deliveryItem(delivery) } } })),
      ...[...attempts.values()].map((attempt) => ({ tableName: this.attemptsTable, request: { PutRequest: { Item: attemptItem(attempt) } } })),
    ]);
  }

  async getDelivery(endpointId: string, messageId: string): Promise<Delivery | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.deliveriesTable, Key: { endpointId, messageId }, ConsistentRead: true }));
    return Item ? deliveryOf(Item) : undefined;
  }

  /** A key range on the endpoint's partition: after the cursor's message, from the first id of `since`'s millisecond. */
  async listDeliveries(endpointId: string, options: DeliveryListOptions): Promise<Page<Delivery>> {
    const after = options.cursor === undefined ? undefined : decodePageCursor(options.cursor, AFTER_MESSAGE).after;
    let floor: string | undefined;
    if (options.since !== undefined) {
      const sinceMs = Date.parse(options.since);
      if (Number.isNaN(sinceMs)) throw new BadRequestError('since must be an ISO 8601 time');
      floor = messageIdFloor(sinceMs);
    }
    const range = after !== undefined && (floor === undefined || after >= floor) ? { op: '>', value: after } : floor !== undefined ? { op: '>=', value: floor } : undefined;
    const { items, more } = await this.queryForward({
      TableName: this.deliveriesTable,
      KeyConditionExpression: `endpointId = :endpoint${range ? ` AND messageId ${range.op} :bound` : ''}`,
      ExpressionAttributeValues: { ':endpoint': endpointId, ...(range ? { ':bound': range.value } : {}) },
      Limit: options.limit + 1,
    }, options.limit);
    return pageOf(items.map(deliveryOf), more, (delivery) => delivery.messageId);
  }

  /**
   * The sparse retryable index's keys, then the deliveries themselves (one BatchGet). The index is eventually
   * consistent: a delivery retried a moment ago may still be listed by it, so its status is checked again.
   */
  async listRetryable(endpointId: string, options: { limit: number; cursor?: string }): Promise<Page<Delivery>> {
    const after = options.cursor === undefined ? undefined : decodePageCursor(options.cursor, AFTER_MESSAGE).after;
    const [byEndpointRetryable] = DELIVERIES_TABLE.indexes;
    const { items: keys, more } = await this.queryForward({
      TableName: this.deliveriesTable,
      IndexName: byEndpointRetryable.indexName,
      KeyConditionExpression: `retryableEndpointId = :endpoint${after !== undefined ? ' AND messageId > :after' : ''}`,
      ExpressionAttributeValues: { ':endpoint': endpointId, ...(after !== undefined ? { ':after': after } : {}) },
      Limit: options.limit + 1,
    }, options.limit);
    const messageIds = keys.map((key) => String(key.messageId));
    const found = new Map(
      (await batchGetItems(this.documents, this.deliveriesTable, messageIds.map((messageId) => ({ endpointId, messageId })))).map((item) => [String(item.messageId), deliveryOf(item)]),
    );
    const items = messageIds.flatMap((messageId) => {
      const delivery = found.get(messageId);
      return delivery && RETRYABLE.has(delivery.status) ? [delivery] : [];
    });
    // The cursor follows the index, whatever the status check kept.
    return { items, ...(more && messageIds.length > 0 ? { cursor: encodePageCursor({ after: messageIds[messageIds.length - 1] }) } : {}) };
  }

  /**
   * Newest first. The attempt entries are a key range of the endpoint's partition (`atm_…`, before its `hour#`
   * and `rate#` entries); a status filter is a FilterExpression, so a page keeps reading until it has `limit`
   * attempts or the range ends, for at most a few queries (then a short page carries a cursor on).
   */
  async listAttempts(endpointId: string, options: { limit: number; cursor?: string; status?: Attempt['status'] }): Promise<Page<Attempt>> {
    const before = options.cursor === undefined ? undefined : decodePageCursor(options.cursor, BEFORE_ATTEMPT).before;
    const found: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    let cursor: string | undefined;
    for (let queries = 0; ; queries++) {
      if (queries === MAX_ATTEMPT_QUERIES) {
        cursor = String(startKey!.entry);
        break;
      }
      // One past the page tells whether another follows; one more for the cursor's own entry (BETWEEN includes it).
      const wanted = options.limit - found.length + 1 + (before !== undefined ? 1 : 0);
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.attemptsTable,
          KeyConditionExpression: before !== undefined ? 'endpointId = :endpoint AND entry BETWEEN :prefix AND :before' : 'endpointId = :endpoint AND begins_with(entry, :prefix)',
          ExpressionAttributeValues: {
            ':endpoint': endpointId,
            ':prefix': ATTEMPT_PREFIX,
            ...(before !== undefined ? { ':before': before } : {}),
            ...(options.status !== undefined ? { ':status': options.status } : {}),
          },
          ...(options.status !== undefined ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ScanIndexForward: false,
          Limit: options.status !== undefined ? Math.max(wanted, FILTERED_READ_LIMIT) : wanted,
          ExclusiveStartKey: startKey,
        }),
      );
      found.push(...(page.Items ?? []).filter((item) => item.entry !== before));
      if (found.length > options.limit) {
        found.length = options.limit;
        cursor = String(found[found.length - 1]!.entry);
        break;
      }
      startKey = page.LastEvaluatedKey;
      if (!startKey) break;
    }
    return { items: found.map(attemptOf), ...(cursor !== undefined ? { cursor: encodePageCursor({ before: cursor }) } : {}) };
  }

  async getAttempt(attemptId: string): Promise<Attempt | undefined> {
    if (attemptId === '') return undefined; // DynamoDB refuses an empty key value
    const [byAttemptId] = ATTEMPTS_TABLE.indexes;
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.attemptsTable,
        IndexName: byAttemptId.indexName,
        KeyConditionExpression: 'attemptId = :id',
        ExpressionAttributeValues: { ':id': attemptId },
        Limit: 1,
      }),
    );
    const key = Items?.[0];
    if (!key) return undefined;
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.attemptsTable, Key: { endpointId: key.endpointId, entry: key.entry } }));
    return Item ? attemptOf(Item) : undefined;
  }

  /** One UpdateItem adding to the hour's counters; a bucket with no count adds no attribute. */
  async addHourStats(endpointId: string, stats: EndpointHourStats, expiresAt: number): Promise<void> {
    const buckets = Object.entries(stats.durationBuckets).filter(([, count]) => count !== 0);
    const names = Object.fromEntries(buckets.map(([bucket]) => [`#d${bucket}`, `d${bucket}`]));
    const values = Object.fromEntries(buckets.map(([bucket, count]) => [`:d${bucket}`, count]));
    await this.documents.send(
      new UpdateCommand({
        TableName: this.attemptsTable,
        Key: { endpointId, entry: `${HOUR_PREFIX}${stats.hour}` },
        UpdateExpression: `ADD succeeded :succeeded, failed :failed${buckets.map(([bucket]) => `, #d${bucket} :d${bucket}`).join('')} SET expiresAt = :expiresAt`,
        ...(buckets.length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: { ':succeeded': stats.succeeded, ':failed': stats.failed, ':expiresAt': expiresAt, ...values },
      }),
    );
  }

  /** The `hour#` entries from `sinceHour` on: a key range, oldest first. */
  async hourStats(endpointId: string, sinceHour: string): Promise<EndpointHourStats[]> {
    const stats: EndpointHourStats[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.attemptsTable,
          KeyConditionExpression: 'endpointId = :endpoint AND entry BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':endpoint': endpointId, ':from': `${HOUR_PREFIX}${sinceHour}`, ':to': HOUR_RANGE_END },
          ExclusiveStartKey: startKey,
        }),
      );
      stats.push(...(page.Items ?? []).map(hourStatsOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return stats;
  }

  /** One forward query with `limit + 1` as its Limit: the page's items, and whether more follow. */
  private async queryForward(input: QueryCommandInput, limit: number): Promise<{ items: Record<string, unknown>[]; more: boolean }> {
    const result = await this.documents.send(new QueryCommand(input));
    const items = result.Items ?? [];
    return { items: items.slice(0, limit), more: items.length > limit || result.LastEvaluatedKey !== undefined };
  }
}

/**
 * The first `msg_` id of a millisecond: `msg_` + the time as 10 Crockford base32 characters + 16 zeros, the same
 * layout as the core's time-ordered ids (outbound-ids.ts). Every id made at or after `ms` sorts at or after it.
 */
export function messageIdFloor(ms: number): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let time = Math.max(0, Math.floor(ms));
  let encoded = '';
  for (let index = 0; index < 10; index++) {
    encoded = alphabet[time % 32] + encoded;
    time = Math.floor(time / 32);
  }
  return `msg_${encoded}${'0'.repeat(16)}`;
}

function pageOf<T>(items: T[], more: boolean, positionOf: (item: T) => string): Page<T> {
  const last = items[items.length - 1];
  return { items, ...(more && last !== undefined ? { cursor: encodePageCursor({ after: positionOf(last) }) } : {}) };
}

function definedOnly(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined));
}

function deliveryItem(delivery: Delivery): Record<string, unknown> {
  return { ...definedOnly(delivery), ...(RETRYABLE.has(delivery.status) ? { retryableEndpointId: delivery.endpointId } : {}) };
}

function deliveryOf(item: Record<string, unknown>): Delivery {
  const { retryableEndpointId: _index, ...delivery } = item;
  return delivery as unknown as Delivery;
}

function attemptItem(attempt: Attempt): Record<string, unknown> {
  return { ...definedOnly(attempt), entry: attempt.id, attemptId: attempt.id };
}

function attemptOf(item: Record<string, unknown>): Attempt {
  const { entry: _entry, attemptId: _attemptId, ...attempt } = item;
  return attempt as unknown as Attempt;
}

function hourStatsOf(item: Record<string, unknown>): EndpointHourStats {
  const durationBuckets: Record<number, number> = {};
  for (const [name, value] of Object.entries(item)) {
    const bucket = /^d(\d+)$/.exec(name);
    if (bucket) durationBuckets[Number(bucket[1])] = Number(value);
  }
  return { hour: String(item.entry).slice(HOUR_PREFIX.length), succeeded: Number(item.succeeded ?? 0), failed: Number(item.failed ?? 0), durationBuckets };
}

function withoutUndefined(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
