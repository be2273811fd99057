/** EventStore over the Events table (see table-definitions.ts for the key design). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput, GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventKey, EventListQuery, EventPage, EventStore, ProcessingClaim, RecordOutcome } from '../../core/ports';
import type { StoredEvent } from '../../core/events/inbound-event';
import { BadRequestError } from '../../core/errors';
import { EVENTS_TABLE } from './table-definitions';
import { decodeCursor, encodeCursor, type ListCursor } from './list-cursor';
import { contentAttributes, dayOf, fromItem, statusDayOf } from './event-item';

export { dayOf } from './event-item';

const DAY_MS = 86_400_000;

/** Day buckets one request may walk: a sparse filter over a long retention answers with a cursor, not a timeout. */
const MAX_DAYS_PER_REQUEST = 14;
/** Queries one request may make, and index entries a filtered query reads at a time: a bounded request either way. */
const MAX_QUERIES_PER_REQUEST = 25;
const FILTERED_READ_LIMIT = 200;

export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { retentionDays: number; now?: () => Date },
  ) {}

  /**
   * The happy path's only write: an UpdateItem that creates the item as processed (or takes it over), conditional
   * on no one else owning it. Content attributes are set only if absent, so a takeover keeps the first copy's
   * content. Processed items carry no `statusDay`, so they leave the sparse status index.
   */
  async recordProcessed(event: StoredEvent, claim: ProcessingClaim, nowMs: number): Promise<RecordOutcome> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':processed': 'processed',
      ':failed': 'failed',
      ':received': 'received',
      ':at': event.processedAt,
      ':me': claim.messageId,
      ':receive': claim.receiveCount,
      ':now': nowMs,
      ':one': 1,
    };
    const content = contentAttributes(event);
    const write = (attributes: Record<string, unknown>, onlyExisting: boolean) => {
      // Fresh maps per write: DynamoDB refuses a name or value the expressions do not use.
      const attributeNames = { ...names };
      const attributeValues = { ...values };
      const setIfAbsent = Object.entries(attributes).map(([name, value], index) => {
        attributeNames[`#a${index}`] = name;
        attributeValues[`:a${index}`] = value;
        return `#a${index} = if_not_exists(#a${index}, :a${index})`;
      });
      const takeover =
        '#status = :failed OR (ownerMessageId = :me AND ownerReceiveCount < :receive) OR (#status = :received AND leaseUntil < :now)';
      return this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: event.id },
          UpdateExpression:
            `SET ${setIfAbsent.join(', ')}, #status = :processed, processedAt = :at, ownerMessageId = :me, ownerReceiveCount = :receive ` +
            'ADD attempts :one REMOVE lastError, statusDay, leaseUntil',
          ConditionExpression: onlyExisting ? `attribute_exists(id) AND (${takeover})` : `attribute_not_exists(id) OR ${takeover}`,
          ExpressionAttributeNames: attributeNames,
          ExpressionAttributeValues: attributeValues,
          ReturnValues: 'ALL_NEW',
        }),
      );
    };
    try {
      let result;
      try {
        result = await write(content, false);
      } catch (error) {
        // A record of the previous shape keeps its body as a plain attribute; with a body near the size cap, adding
        // the packed copy beside it passes DynamoDB's 400 KB item limit. Such a record already has its content, so
        // it is taken over without the packed copy (and never created that way: attribute_exists).
        if ((error as Error).name !== 'ValidationException' || !/size/i.test((error as Error).message)) throw error;
        const { content: _packed, ...withoutPacked } = content;
        result = await write(withoutPacked, true);
      }
      return { recorded: true, event: fromItem(result.Attributes!) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Only copies and redeliveries get here: they pay this read, the happy path does not.
      return { recorded: false, existing: await this.get(event.id) };
    }
  }

  /** Fenced on the claim; puts the event into the sparse status index under `failed`. */
  markFailed(event: EventKey, claim: ProcessingClaim, error: string): Promise<boolean> {
    return this.updateOwned(event, claim, 'SET #status = :failed, lastError = :error, statusDay = :statusDay, storedAt = if_not_exists(storedAt, :storedAt) REMOVE processedAt', {
      ':failed': 'failed',
      ':error': error,
      ':statusDay': statusDayOf('failed', event.receivedAt),
      ':storedAt': event.storedAt,
    });
  }

  /** Fenced on the claim, like markFailed; takes the event out of the sparse status index. */
  markProcessed(event: EventKey, claim: ProcessingClaim, processedAt: string): Promise<boolean> {
    return this.updateOwned(event, claim, 'SET #status = :processed, processedAt = :at REMOVE lastError, statusDay', { ':processed': 'processed', ':at': processedAt });
  }

  /** An update that applies only while this delivery (message and receive) owns the event; false if it no longer does. */
  private async updateOwned(event: EventKey, claim: ProcessingClaim, updateExpression: string, values: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: event.id },
          UpdateExpression: updateExpression,
          ConditionExpression: 'ownerMessageId = :me AND ownerReceiveCount = :receive',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':me': claim.messageId, ':receive': claim.receiveCount },
        }),
      );
      return true;
    } catch (caught) {
      if (caught instanceof ConditionalCheckFailedException) return false;
      throw caught;
    }
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
    const { indexName, partitionAttribute, sortAttribute, partitionValue, filterSource, filterStatus } = indexFor(query);
    const queryKey = `${indexName}|${query.source ?? ''}|${query.status ?? ''}`;
    const now = this.options.now?.() ?? new Date();
    const today = dayOf(now);
    const oldestDay = dayOf(new Date(now.getTime() - (this.options.retentionDays + 1) * DAY_MS));
    let cursor: ListCursor = query.cursor
      ? decodeCursor(query.cursor, { queryKey, today, tableKey: EVENTS_TABLE.partitionKey.name, partitionAttribute, sortAttribute, partitionValue })
      : { query: queryKey, day: today };
    const ids: string[] = [];
    const filters = { ...(filterSource ? { source: query.source } : {}), ...(filterStatus ? { status: query.status } : {}) };
    const filterNames = Object.fromEntries(Object.keys(filters).map((name) => [`#${name}`, name]));
    const filterValues = Object.fromEntries(Object.entries(filters).map(([name, value]) => [`:${name}`, value]));
    const filterExpression = Object.keys(filters).map((name) => `#${name} = :${name}`).join(' AND ');

    for (let days = 0, queries = 0; ids.length < query.limit && cursor.day >= oldestDay && days < MAX_DAYS_PER_REQUEST && queries < MAX_QUERIES_PER_REQUEST; queries++) {
      const wanted = query.limit - ids.length;
      const page = await this.queryPage(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: indexName,
          KeyConditionExpression: '#partition = :partition',
          ExpressionAttributeNames: { '#partition': partitionAttribute, ...filterNames },
          ExpressionAttributeValues: { ':partition': partitionValue(cursor.day), ...filterValues },
          ...(filterExpression ? { FilterExpression: filterExpression } : {}),
          ScanIndexForward: false,
          // Limit counts entries read before the filter: a filtered query reads a few hundred at a time, or a rare
          // source would cost one Query per event of the day.
          Limit: filterExpression ? Math.max(wanted, FILTERED_READ_LIMIT) : wanted,
          ExclusiveStartKey: cursor.key,
        }),
      );
      const items = page.Items ?? [];
      const kept = items.slice(0, wanted);
      for (const item of kept) ids.push(String(item.id));
      if (kept.length < items.length) {
        // More matches than the page needs: the next page starts after the last one kept, whose index entry holds
        // exactly the key attributes a start key needs.
        const last = kept[kept.length - 1]!;
        const keyNames = [EVENTS_TABLE.partitionKey.name, partitionAttribute, sortAttribute];
        cursor = { query: queryKey, day: cursor.day, key: Object.fromEntries(keyNames.map((name) => [name, String(last[name])])) };
      } else if (page.LastEvaluatedKey) {
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
}

/**
 * Which index answers a query. The sparse status index holds only events that are not processed, so `failed` and
 * `received` alone are read from it; everything else walks `byDay`, which projects `source` and `status` for the
 * filter (a filtered page may hold fewer events than `limit`; the cursor goes on).
 */
function indexFor(query: EventListQuery) {
  const [byDay, byStatusDay] = EVENTS_TABLE.indexes;
  const keysOf = (index: (typeof EVENTS_TABLE.indexes)[number]) => ({
    indexName: index.indexName,
    partitionAttribute: index.partitionKey.name,
    sortAttribute: index.sortKey.name,
  });
  if (query.source === undefined && query.status !== undefined && query.status !== 'processed') {
    const status = query.status;
    return { ...keysOf(byStatusDay), partitionValue: (day: string) => `${status}#${day}`, filterSource: false, filterStatus: false };
  }
  return { ...keysOf(byDay), partitionValue: (day: string) => day, filterSource: query.source !== undefined, filterStatus: query.status !== undefined };
}

function previousDay(day: string): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS));
}
