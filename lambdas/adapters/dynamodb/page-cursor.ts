/**
 * The opaque `cursor` of the outbound lists (endpoints, deliveries, attempts, audit): a few named string fields as
 * base64url JSON, like the events cursor (list-cursor.ts). Each names a position, not a DynamoDB start key: the
 * adapters turn it into a key condition (`messageId > :after`) or rebuild the start key from the request's own
 * partition, so a cursor cannot point a query outside its partition. It comes back from the client, so it is
 * decoded as untrusted input: anything but exactly the expected fields, each of the expected shape, is a 400.
 */
import { BadRequestError } from '../../core/errors';

/** A real cursor is well under a hundred characters; the bound keeps a forged one from costing a large parse. */
const MAX_CURSOR_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** What a cursor field must look like; an optional field may be absent. */
export type CursorFields = Record<string, { pattern: RegExp; optional?: boolean }>;

export function encodePageCursor(fields: Record<string, string | undefined>): string {
  return Buffer.from(JSON.stringify(fields)).toString('base64url');
}

export const invalidCursor = () => new BadRequestError('cursor is not valid; pass the cursor of a previous page unchanged');

/** The JSON object a cursor carries, or a 400: too long, not base64url, not JSON, not an object. */
export function cursorDocument(encoded: string, maxLength: number): Record<string, unknown> {
  if (encoded.length > maxLength || !BASE64URL.test(encoded)) throw invalidCursor();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw invalidCursor();
  return decoded as Record<string, unknown>;
}

export function decodePageCursor(encoded: string, expected: CursorFields): Record<string, string> {
  const invalid = invalidCursor;
  const fields = cursorDocument(encoded, MAX_CURSOR_LENGTH);
  if (Object.keys(fields).some((name) => !Object.hasOwn(expected, name))) throw invalid();
  for (const [name, { pattern, optional }] of Object.entries(expected)) {
    const value = fields[name];
    if (value === undefined && optional) continue;
    if (typeof value !== 'string' || !pattern.test(value)) throw invalid();
  }
  return fields as Record<string, string>;
}

/** Shapes of the ids the cursors carry: a prefix and the time-ordered id's characters, bounded. */
export const idPattern = (prefix: string) => new RegExp(`^${prefix}[0-9A-Za-z]{1,64}$`);
