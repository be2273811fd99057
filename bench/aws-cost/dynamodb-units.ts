/**
 * DynamoDB capacity units by the documented rules, for what dynalite does not count (it reports no consumed
 * capacity and maintains indexes without charging them). Pure: items are native values as the document client
 * reads and writes them (strings, numbers, Uint8Array, booleans, null, arrays as lists, objects as maps, Sets).
 *
 * Rules (Amazon DynamoDB Developer Guide, "DynamoDB item sizes and formats" and "Global secondary indexes:
 * provisioned throughput considerations"):
 * - item size = sum over attributes of (UTF-8 bytes of the name + size of the value); a string is its UTF-8
 *   bytes, a number about 1 byte per two significant digits + 1, a binary its raw bytes, null/boolean 1 byte, a
 *   list or map 3 bytes + its elements + 1 byte per element (map elements also count their names);
 * - a standard write consumes 1 write unit per 1 KB (1,024 bytes) of the larger of the old and the new item,
 *   at least 1; a conditional write whose condition fails still consumes the units of the item it checked;
 * - a read consumes 1 read unit per 4 KB strongly consistent, half that eventually consistent; a Query sums the
 *   sizes of the entries it returns before rounding up; index reads are always eventually consistent;
 * - a global secondary index holds an item only when the item has every key attribute of the index (sparse
 *   indexes); its entry is the table key, the index key and the projected attributes. A write costs the index:
 *   a put of an item that now carries the index key = 1 index write, an update that changes an index key value =
 *   2 (delete the old entry, put the new), an update that changes only projected attributes = 1, removing the key
 *   or deleting the item = 1 delete, a write that changes no key or projected attribute = 0. Each index write is
 *   rounded up to 1 KB of its entry like a table write. (The 100 bytes per index entry DynamoDB adds for storage
 *   are a storage charge, not part of the write size.)
 */
import type { IndexDefinition, TableDefinition } from '../../lambdas/adapters/dynamodb/table-definitions';

export type Item = Record<string, unknown>;

const KB = 1024;
const READ_BLOCK = 4 * KB;

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Size of a number value: 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1. */
export function numberSize(value: number | bigint | string): number {
  const text = String(value).replace(/^-/, '').toLowerCase();
  const [mantissa = '0'] = text.split('e');
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

export function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...(value as Set<unknown>)].reduce<number>((sum, element) => sum + valueSize(element), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, element) => sum + 1 + valueSize(element), 0);
  if (typeof value === 'object') {
    return 3 + Object.entries(value as Item).reduce((sum, [name, element]) => sum + 1 + utf8Bytes(name) + valueSize(element), 0);
  }
  throw new Error(`no DynamoDB size rule for a ${typeof value}`);
}

/** Item size as DynamoDB counts it for capacity (attribute names + values). */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => (value === undefined ? sum : sum + utf8Bytes(name) + valueSize(value)), 0);
}

export function writeUnitsFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / KB));
}

/** The index entry of `item`, or undefined when the item lacks an index key attribute (not in the index). */
export function indexEntry(table: TableDefinition, index: IndexDefinition, item: Item | undefined): Item | undefined {
  if (!item) return undefined;
  const indexKeys = [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])].map((key) => key.name);
  if (indexKeys.some((name) => item[name] === undefined)) return undefined;
  const tableKeys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])].map((key) => key.name);
  const projected = index.projection.type === 'INCLUDE' ? index.projection.attributes : [];
  const entry: Item = {};
  for (const name of [...tableKeys, ...indexKeys, ...projected]) if (item[name] !== undefined) entry[name] = item[name];
  return entry;
}

export interface IndexWrite {
  index: string;
  /** What the table write did to this index. */
  kind: 'none' | 'put' | 'delete' | 'key-change' | 'projection-change';
  /** Index write operations: 0, 1 or 2. */
  operations: number;
  units: number;
}

export interface WriteCost {
  tableUnits: number;
  indexes: IndexWrite[];
  /** Table units plus every index's units. */
  totalUnits: number;
}

/**
 * The write units of one write that turned `before` into `after` (undefined: no item). `conditionFailed`: the
 * condition refused the write; the item was checked, nothing was written, no index changed.
 */
export function writeCost(table: TableDefinition, before: Item | undefined, after: Item | undefined, options: { conditionFailed?: boolean } = {}): WriteCost {
  if (options.conditionFailed) {
    const tableUnits = writeUnitsFor(before ? itemSize(before) : 0);
    return { tableUnits, indexes: table.indexes.map((index) => ({ index: index.indexName, kind: 'none', operations: 0, units: 0 })), totalUnits: tableUnits };
  }
  const tableUnits = writeUnitsFor(Math.max(before ? itemSize(before) : 0, after ? itemSize(after) : 0));
  const indexes = table.indexes.map((index) => indexWrite(table, index, before, after));
  return { tableUnits, indexes, totalUnits: tableUnits + indexes.reduce((sum, write) => sum + write.units, 0) };
}

function indexWrite(table: TableDefinition, index: IndexDefinition, before: Item | undefined, after: Item | undefined): IndexWrite {
  const oldEntry = indexEntry(table, index, before);
  const newEntry = indexEntry(table, index, after);
  const result = (kind: IndexWrite['kind'], entries: Item[]): IndexWrite => ({
    index: index.indexName,
    kind,
    operations: entries.length,
    units: entries.reduce((sum, entry) => sum + writeUnitsFor(itemSize(entry)), 0),
  });
  if (!oldEntry && !newEntry) return result('none', []);
  if (!oldEntry) return result('put', [newEntry!]);
  if (!newEntry) return result('delete', [oldEntry]);
  const keyNames = [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])].map((key) => key.name);
  if (keyNames.some((name) => !sameValue(oldEntry[name], newEntry[name]))) return result('key-change', [oldEntry, newEntry]);
  if (!sameValue(oldEntry, newEntry)) return result('projection-change', [newEntry]);
  return result('none', []);
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { B: Buffer.from(value).toString('base64') };
  if (value instanceof Set) return { SET: [...value].map(normalize).sort() };
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, normalize(v)]));
  return value;
}

/** Read units of a GetItem (or one BatchGetItem key): a missing item still costs the minimum. */
export function getReadUnits(item: Item | undefined, consistent: boolean): number {
  const blocks = Math.max(1, Math.ceil((item ? itemSize(item) : 0) / READ_BLOCK));
  return consistent ? blocks : blocks / 2;
}

/** Read units of one Query call: the returned entries' sizes summed, then rounded up to 4 KB (at least one block). */
export function queryReadUnits(items: readonly Item[], consistent: boolean): number {
  const bytes = items.reduce((sum, item) => sum + itemSize(item), 0);
  const blocks = Math.max(1, Math.ceil(bytes / READ_BLOCK));
  return consistent ? blocks : blocks / 2;
}
