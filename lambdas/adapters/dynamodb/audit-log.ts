/**
 * AuditLog over the Audit table: day partitions (from each record's `at`) sorted by the record's time-ordered id.
 * Newest first is a walk over days backwards from today, within the retention: the audit log is small (a few
 * management calls a day), so one request walks as many days as it needs, up to `maxDays`, several at a time.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../../core/outbound/outbound-model';
import type { AuditLog, Page } from '../../core/outbound/outbound-ports';
import { BadRequestError } from '../../core/errors';
import { decodePageCursor, encodePageCursor } from './page-cursor';

const DAY_MS = 86_400_000;
const DEFAULT_MAX_DAYS = 90;
/** Days read by one round of parallel queries. */
const DAYS_AT_ONCE = 8;

const CURSOR_FIELDS = {
  day: { pattern: /^\d{4}-\d{2}-\d{2}$/ },
  /**
   * The last id listed of that day; absent when the day is to be read from its newest record. Any printable id is
   * safe: it only bounds a key condition (`id < :before`) within the day's partition.
   */
  key: { pattern: /^[\x21-\x7e]{1,200}$/, optional: true },
};

export interface AuditLogOptions {
  /** Days back from today that a listing reads (the records' retention). @default 90 */
  maxDays?: number;
  now?: () => Date;
}

export class DynamoDbAuditLog implements AuditLog {
  private readonly maxDays: number;
  private readonly now: () => Date;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: AuditLogOptions = {},
  ) {
    this.maxDays = options.maxDays ?? DEFAULT_MAX_DAYS;
    this.now = options.now ?? (() => new Date());
  }

  async append(record: AuditRecord): Promise<void> {
    const item = Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...item, day: dayOf(record.at) } }));
  }

  async list(options: { limit: number; cursor?: string }): Promise<Page<AuditRecord>> {
    const today = dayOf(this.now().toISOString());
    const oldestDay = dayOf(new Date(this.now().getTime() - this.maxDays * DAY_MS).toISOString());
    let position: { day: string; key?: string } = { day: today };
    if (options.cursor !== undefined) {
      const { day, key } = decodePageCursor(options.cursor, CURSOR_FIELDS);
      if (!isDay(day!) || day! > today) throw new BadRequestError('cursor is not valid; pass the cursor of a previous page unchanged');
      position = { day: day!, ...(key !== undefined ? { key } : {}) };
    }
    const records: AuditRecord[] = [];
    walk: while (records.length < options.limit && position.day >= oldestDay) {
      const wanted = options.limit - records.length;
      // A day read from its newest record is read with the next few older days at once: an audit log is sparse,
      // and a walk over empty days one query at a time would take one round trip per day of the retention.
      const days = position.key !== undefined ? [position.day] : daysBack(position.day, oldestDay, DAYS_AT_ONCE);
      const pages = await Promise.all(days.map((day, index) => this.readDay(day, index === 0 ? position.key : undefined, wanted + 1)));
      for (const [index, page] of pages.entries()) {
        const day = days[index]!;
        const room = options.limit - records.length;
        records.push(...page.items.slice(0, room));
        if (page.items.length > room || (page.more && page.items.length === room)) {
          position = { day, key: records[records.length - 1]!.id };
          break walk;
        }
        if (page.more) {
          // DynamoDB's 1 MB page ended the day's read early: go on in this day, after the last record read.
          position = { day, key: page.items[page.items.length - 1]!.id };
          continue walk;
        }
        position = { day: previousDay(day) };
      }
    }
    return { items: records, ...(position.day >= oldestDay ? { cursor: encodePageCursor(position) } : {}) };
  }

  /** Up to `limit` records of one day, newest first, older than `before` if given; `more` if the day may hold others. */
  private async readDay(day: string, before: string | undefined, limit: number): Promise<{ items: AuditRecord[]; more: boolean }> {
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: before !== undefined ? '#day = :day AND id < :before' : '#day = :day',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: { ':day': day, ...(before !== undefined ? { ':before': before } : {}) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return { items: (page.Items ?? []).map(recordOf), more: page.LastEvaluatedKey !== undefined };
  }
}

function recordOf(item: Record<string, unknown>): AuditRecord {
  const { day: _day, ...record } = item;
  return record as unknown as AuditRecord;
}

function dayOf(isoTime: string): string {
  return isoTime.slice(0, 10);
}

function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
}

/** `count` days from `day` backwards, none before `oldest`. */
function daysBack(day: string, oldest: string, count: number): string[] {
  const days = [day];
  while (days.length < count && previousDay(days[days.length - 1]!) >= oldest) days.push(previousDay(days[days.length - 1]!));
  return days;
}

function isDay(value: string): boolean {
  return !Number.isNaN(Date.parse(value)) && new Date(value).toISOString().startsWith(value);
}
