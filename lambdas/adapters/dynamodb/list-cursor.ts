/**
 * The opaque `cursor` of GET /api/events: the day partition being walked and DynamoDB's LastEvaluatedKey, as
 * base64url JSON. It comes back from the client, so it is decoded as untrusted input: anything DynamoDB could refuse
 * as an ExclusiveStartKey (a ValidationException, a 500 to the client) is refused here first, as a 400.
 */
import { BadRequestError } from '../../core/errors';
import { cursorDocument, invalidCursor } from './page-cursor';

export interface ListCursor {
  /** The query the cursor belongs to (index and filters): reusing it with another query is a 400, not a 500. */
  query: string;
  day: string;
  key?: Record<string, string>;
}

/** What the cursor must match: the query being run now and the shape of its index's keys. */
export interface CursorExpectation {
  queryKey: string;
  today: string;
  /** Attribute names of an ExclusiveStartKey on this index: table key, index partition key, index sort key. */
  tableKey: string;
  partitionAttribute: string;
  sortAttribute: string;
  partitionValue: (day: string) => string;
}

/** A real cursor is a few hundred characters; the bound keeps a forged one from costing a large parse. */
export const MAX_CURSOR_LENGTH = 1024;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const EVENT_ID = /^evt_[0-9a-f]{32}$/;
/** `receivedAtId` is `${receivedAt}#${id}` with receivedAt from Date.toISOString(). */
const RECEIVED_AT_ID = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}\.\d{3}Z#(evt_[0-9a-f]{32})$/;

export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(encoded: string, expected: CursorExpectation): ListCursor {
  const invalid = invalidCursor;
  const decoded = cursorDocument(encoded, MAX_CURSOR_LENGTH);
  if (!hasExactly(decoded, ['query', 'day'], ['key'])) throw invalid();
  const { query, day, key } = decoded;
  if (typeof query !== 'string' || !isDay(day) || day > expected.today) throw invalid();
  if (query !== expected.queryKey) throw new BadRequestError('cursor belongs to a query with other source/status filters');
  if (key === undefined) return { query, day };
  if (!isStartKey(key, day, expected)) throw invalid();
  return { query, day, key };
}

/**
 * An ExclusiveStartKey DynamoDB accepts for this index and day: exactly the three key attributes, each a string
 * shaped as hookhub writes it, inside the partition being queried (another partition is "outside query
 * boundaries"), and whose sort key belongs to the id it names.
 */
function isStartKey(key: unknown, day: string, expected: CursorExpectation): key is Record<string, string> {
  if (!isPlainObject(key) || !hasExactly(key, [expected.tableKey, expected.partitionAttribute, expected.sortAttribute])) return false;
  const id = key[expected.tableKey];
  const partition = key[expected.partitionAttribute];
  const sort = key[expected.sortAttribute];
  if (typeof id !== 'string' || typeof partition !== 'string' || typeof sort !== 'string') return false;
  const sortParts = RECEIVED_AT_ID.exec(sort);
  return EVENT_ID.test(id) && partition === expected.partitionValue(day) && sortParts?.[1] === day && sortParts[2] === id;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasExactly(value: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  const names = Object.keys(value);
  return required.every((name) => names.includes(name)) && names.every((name) => required.includes(name) || optional.includes(name));
}

function isDay(value: unknown): value is string {
  // The round trip refuses dates that match the pattern but do not exist (2026-02-30).
  return typeof value === 'string' && DAY.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString().startsWith(value);
}
