/** EventStore over the Events table (see table-definitions.ts for the key design). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { EventKey, EventListQuery, EventPage, EventStore, InsertOutcome, ProcessingClaim } from '../../core/ports';
import type { EventStatus, StoredEvent } from '../../core/events/inbound-event';
import { BadRequestError } from '../../core/errors';
import { emptyNameValueMap, nameValueMapOf, type NameValueMap } from '../../core/name-value-map';
import { EVENTS_TABLE } from './table-definitions';
import { decodeCursor, encodeCursor, type ListCursor } from './list-cursor';

const DAY_MS = 86_400_000;
const INDEX_KEYS = ['day', 'sourceDay', 'statusDay', 'receivedAtId'] as const;

/** Day buckets one request may walk: a sparse filter over a long retention answers with a cursor, not a timeout. */
const MAX_DAYS_PER_REQUEST = 14;

export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { retentionDays: number; now?: () => Date },
  ) {}

  async insertIfAbsent(event: StoredEvent): Promise<InsertOutcome> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(event),
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return { inserted: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(event.id);
      if (!existing) throw new Error(`event ${event.id} vanished after a conditional-put conflict`, { cause: error });
      return { inserted: false, existing };
    }
  }

  async claim(event: EventKey, claim: ProcessingClaim, nowMs: number): Promise<StoredEvent | undefined> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: event.id },
          UpdateExpression:
            'SET ownerMessageId = :me, ownerReceiveCount = :receive, leaseUntil = :lease, #status = :received, statusDay = :statusDay ADD attempts :one',
          ConditionExpression:
            'attribute_exists(id) AND #status <> :processed AND ' +
            '((ownerMessageId = :me AND ownerReceiveCount < :receive) OR #status = :failed OR leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':me': claim.messageId,
            ':receive': claim.receiveCount,
            ':lease': claim.leaseUntil,
            ':now': nowMs,
            ':received': 'received',
            ':processed': 'processed',
            ':failed': 'failed',
            ':one': 1,
            ':statusDay': `received#${dayOf(new Date(event.receivedAt))}`,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? fromItem(result.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async markProcessed(event: EventKey, claim: ProcessingClaim, processedAt: string): Promise<boolean> {
    return this.setStatus(event, claim, 'processed', 'SET processedAt = :at', 'REMOVE lastError', { ':at': processedAt });
  }

  async markFailed(event: EventKey, claim: ProcessingClaim, error: string): Promise<boolean> {
    return this.setStatus(event, claim, 'failed', 'SET lastError = :error', '', { ':error': error });
  }

  async recordDuplicate(id: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'ADD duplicates :one',
          // Never resurrect an item TTL removed as a stub holding only a counter.
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
    return result.Item ? fromItem(result.Item) : undefined;
  }

  /**
   * Newest first. Walks day partitions of the matching index from today back over the retention period; the
   * cursor remembers the day and DynamoDB's last key. Index items carry keys only, so a page ends with one
   * BatchGet of the full items.
   */
  async list(query: EventListQuery): Promise<EventPage> {
    const { indexName, partitionAttribute, sortAttribute, partitionValue } = indexFor(query);
    const queryKey = `${indexName}|${query.source ?? ''}|${query.status ?? ''}`;
    const now = this.options.now?.() ?? new Date();
    const today = dayOf(now);
    const oldestDay = dayOf(new Date(now.getTime() - (this.options.retentionDays + 1) * DAY_MS));
    let cursor: ListCursor = query.cursor
      ? decodeCursor(query.cursor, { queryKey, today, tableKey: EVENTS_TABLE.partitionKey.name, partitionAttribute, sortAttribute, partitionValue })
      : { query: queryKey, day: today };
    const ids: string[] = [];
    const filterByStatus = query.source !== undefined && query.status !== undefined;

    for (let days = 0; ids.length < query.limit && cursor.day >= oldestDay && days < MAX_DAYS_PER_REQUEST; ) {
      const page = await this.queryPage(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: indexName,
          KeyConditionExpression: '#partition = :partition',
          ExpressionAttributeNames: { '#partition': partitionAttribute, ...(filterByStatus ? { '#status': 'status' } : {}) },
          ExpressionAttributeValues: {
            ':partition': partitionValue(cursor.day),
            ...(filterByStatus ? { ':status': query.status } : {}),
          },
          ...(filterByStatus ? { FilterExpression: '#status = :status' } : {}),
          ScanIndexForward: false,
          Limit: query.limit - ids.length,
          ExclusiveStartKey: cursor.key,
        }),
      );
      for (const item of page.Items ?? []) ids.push(String(item.id));
      if (page.LastEvaluatedKey) {
        cursor = { query: queryKey, day: cursor.day, key: page.LastEvaluatedKey as Record<string, string> };
      } else {
        cursor = { query: queryKey, day: previousDay(cursor.day) };
        days++;
      }
    }

    const events = await this.getMany(ids);
    // A page may hold fewer events than the limit (a sparse filter); clients follow the cursor until it is null.
    return { events, cursor: cursor.day >= oldestDay ? encodeCursor(cursor) : undefined };
  }

  /**
   * decodeCursor refuses every key it knows DynamoDB would; should DynamoDB still refuse a start key (a rule we do not
   * know of), that is the client's cursor at fault: a 400, not a 500. A first page has no start key, so a
   * ValidationException there is our bug and stays a 500.
   */
  private async queryPage(command: QueryCommand) {
    try {
      return await this.client.send(command);
    } catch (error) {
      if (command.input.ExclusiveStartKey !== undefined && (error as Error).name === 'ValidationException') {
        throw new BadRequestError('cursor is not valid; pass the cursor of a previous page unchanged', { cause: error });
      }
      throw error;
    }
  }

  private async getMany(ids: string[]): Promise<StoredEvent[]> {
    if (ids.length === 0) return [];
    const found = new Map<string, StoredEvent>();
    let keys: Record<string, unknown>[] | undefined = ids.map((id) => ({ id }));
    // BatchGet may return some keys as unprocessed under load; ask again for just those, backing off.
    for (let round = 0; keys && keys.length > 0; round++) {
      if (round === 6) throw new Error(`DynamoDB left ${keys.length} keys unprocessed after ${round} attempts`);
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
      const result: BatchGetCommandOutput = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }));
      for (const item of result.Responses?.[this.tableName] ?? []) found.set(String(item.id), fromItem(item));
      keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
    }
    // Keep index order; an id whose item expired between the query and the read is skipped.
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  private async setStatus(
    event: EventKey,
    claim: ProcessingClaim,
    status: EventStatus,
    set: string,
    remove: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: event.id },
          UpdateExpression: `${set}, #status = :status, statusDay = :statusDay ${remove}`,
          ConditionExpression: 'ownerMessageId = :me AND ownerReceiveCount = :receive',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ...values,
            ':status': status,
            ':statusDay': `${status}#${dayOf(new Date(event.receivedAt))}`,
            ':me': claim.messageId,
            ':receive': claim.receiveCount,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function indexFor(query: EventListQuery) {
  const [byDay, bySourceDay, byStatusDay] = EVENTS_TABLE.indexes;
  const keysOf = (index: (typeof EVENTS_TABLE.indexes)[number]) => ({
    indexName: index.indexName,
    partitionAttribute: index.partitionKey.name,
    sortAttribute: index.sortKey.name,
  });
  if (query.source !== undefined) return { ...keysOf(bySourceDay), partitionValue: (day: string) => `${query.source}#${day}` };
  if (query.status !== undefined) return { ...keysOf(byStatusDay), partitionValue: (day: string) => `${query.status}#${day}` };
  return { ...keysOf(byDay), partitionValue: (day: string) => day };
}

export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function previousDay(day: string): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS));
}

/**
 * Headers are stored as a list of [name, value] pairs, not a map: their names are the client's, and the document
 * client's marshalling refuses an object with a `constructor` key (and drops `__proto__`), which made such an event
 * impossible to store. Items written before keep a map; fromItem reads both.
 */
function toItem(event: StoredEvent): Record<string, unknown> {
  const day = dayOf(new Date(event.receivedAt));
  return {
    ...event,
    headers: Object.entries(event.headers),
    day,
    sourceDay: `${event.source}#${day}`,
    statusDay: `${event.status}#${day}`,
    receivedAtId: `${event.receivedAt}#${event.id}`,
  };
}

function fromItem(item: Record<string, unknown>): StoredEvent {
  const event = { ...item } as Record<string, unknown>;
  for (const key of INDEX_KEYS) delete event[key];
  event.headers = headersFromItem(item.headers);
  return event as unknown as StoredEvent;
}

function headersFromItem(stored: unknown): NameValueMap {
  const isPair = (entry: unknown): entry is [string, string] =>
    Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'string';
  if (Array.isArray(stored)) return nameValueMapOf(stored.filter(isPair));
  if (typeof stored === 'object' && stored !== null) {
    return nameValueMapOf(Object.entries(stored).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }
  return emptyNameValueMap();
}
