/** The cost model behind `npm run bench`'s AWS cost section, against hand-computed examples of DynamoDB's rules. */
import { getReadUnits, indexEntry, itemSize, numberSize, queryReadUnits, writeCost } from '../../bench/aws-cost/dynamodb-units';
import { costRows, totalPerMillion, type MeterReport } from '../../bench/aws-cost/cost-table';
import type { TableDefinition } from '../../lambdas/adapters/dynamodb/table-definitions';

const table: TableDefinition = {
  logicalName: 'T',
  partitionKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'ttl',
  indexes: [
    { indexName: 'byDay', partitionKey: { name: 'day', type: 'S' }, sortKey: { name: 'at', type: 'S' }, projection: { type: 'KEYS_ONLY' } },
    { indexName: 'byOpen', partitionKey: { name: 'open', type: 'S' }, sortKey: { name: 'at', type: 'S' }, projection: { type: 'KEYS_ONLY' } },
    { indexName: 'bySource', partitionKey: { name: 'src', type: 'S' }, sortKey: { name: 'at', type: 'S' }, projection: { type: 'INCLUDE', attributes: ['status'] } },
  ],
};

const unitsByIndex = (cost: ReturnType<typeof writeCost>) => Object.fromEntries(cost.indexes.map((write) => [write.index, [write.kind, write.units]]));

describe('DynamoDB item size', () => {
  it('counts names and values: strings in UTF-8 bytes, numbers by significant digits, binary raw', () => {
    expect(itemSize({ id: 'evt_1' })).toBe(2 + 5);
    expect(itemSize({ name: 'héllo' })).toBe(4 + 6);
    expect(numberSize(12345)).toBe(4); // 5 digits: ceil(5/2) + 1
    expect(numberSize(1000)).toBe(2); // trailing zeros trimmed: "1"
    expect(numberSize(0.001)).toBe(2);
    expect(numberSize(-3.14)).toBe(3);
    expect(itemSize({ n: 1_790_000_123 })).toBe(1 + 6); // 1790000123: 10 digits → 5 + 1
    expect(itemSize({ b: new Uint8Array(10), t: true, z: null })).toBe(1 + 10 + 1 + 1 + 1 + 1);
  });

  it('charges lists and maps 3 bytes plus 1 per element (map elements count their names)', () => {
    expect(itemSize({ l: ['a', 'bc'] })).toBe(1 + 3 + (1 + 1) + (1 + 2));
    expect(itemSize({ m: { a: 'x', bb: 12 } })).toBe(1 + 3 + (1 + 1 + 1) + (1 + 2 + 2));
    expect(itemSize({ headers: [['content-type', 'application/json']] })).toBe(7 + 3 + 1 + (3 + (1 + 12) + (1 + 16)));
    expect(itemSize({ s: new Set(['ab', 'c']) })).toBe(1 + 3);
  });
});

describe('DynamoDB write units with global secondary indexes', () => {
  const body = 'x'.repeat(1200);
  const received = { id: 'e1', day: 'd1', at: 't1', open: 'received#d1', src: 's#d1', status: 'received', body };

  it('a put of an item carrying every index key writes each index once, rounded up per 1 KB entry', () => {
    const cost = writeCost(table, undefined, received);
    expect(cost.tableUnits).toBe(2); // ~1.25 KB
    expect(unitsByIndex(cost)).toEqual({ byDay: ['put', 1], byOpen: ['put', 1], bySource: ['put', 1] });
    expect(cost.totalUnits).toBe(5);
  });

  it('an update that changes an index key costs 2 there; one that changes only a projected attribute costs 1', () => {
    const processed = { ...received, open: 'processed#d1', status: 'processed' };
    const cost = writeCost(table, received, processed);
    expect(unitsByIndex(cost)).toEqual({ byDay: ['none', 0], byOpen: ['key-change', 2], bySource: ['projection-change', 1] });
    expect(cost.totalUnits).toBe(2 + 3);
  });

  it('removing an index key is one delete; a write touching no key or projected attribute costs no index', () => {
    const { open: _removed, ...closed } = received;
    expect(unitsByIndex(writeCost(table, received, closed))).toMatchObject({ byOpen: ['delete', 1], byDay: ['none', 0], bySource: ['none', 0] });
    expect(writeCost(table, received, { ...received, body: 'short' })).toMatchObject({ tableUnits: 2, totalUnits: 2 });
  });

  it('an item without an index key is not in that index (sparse), and a write charges the larger of old and new', () => {
    const small = { id: 'e2', day: 'd1', at: 't2', status: 'processed' };
    expect(indexEntry(table, table.indexes[1]!, small)).toBeUndefined();
    expect(indexEntry(table, table.indexes[2]!, { ...small, src: 's#d1' })).toEqual({ id: 'e2', src: 's#d1', at: 't2', status: 'processed' });
    expect(unitsByIndex(writeCost(table, undefined, small))).toEqual({ byDay: ['put', 1], byOpen: ['none', 0], bySource: ['none', 0] });
    expect(writeCost(table, received, small).tableUnits).toBe(2);
  });

  it('a refused conditional write costs the checked item and no index', () => {
    expect(writeCost(table, received, undefined, { conditionFailed: true })).toMatchObject({ tableUnits: 2, totalUnits: 2 });
    expect(writeCost(table, undefined, undefined, { conditionFailed: true }).totalUnits).toBe(1);
  });

  it('an index entry over 1 KB costs 2 units per index write', () => {
    const wide = { id: 'e3', src: 's', at: 't', status: 'y'.repeat(1100) };
    expect(unitsByIndex(writeCost(table, undefined, wide)).bySource).toEqual(['put', 2]);
  });
});

describe('DynamoDB read units', () => {
  it('rounds each get up to 4 KB, halves eventually consistent reads, and charges a miss the minimum', () => {
    expect(getReadUnits({ b: 'x'.repeat(5000) }, true)).toBe(2);
    expect(getReadUnits({ b: 'x'.repeat(5000) }, false)).toBe(1);
    expect(getReadUnits(undefined, true)).toBe(1);
    expect(getReadUnits(undefined, false)).toBe(0.5);
  });

  it('sums a query page before rounding', () => {
    expect(queryReadUnits([{ a: 'x'.repeat(99) }, { a: 'x'.repeat(99) }, { a: 'x'.repeat(99) }], false)).toBe(0.5);
    expect(queryReadUnits([], false)).toBe(0.5);
    expect(queryReadUnits(Array.from({ length: 50 }, () => ({ a: 'x'.repeat(99) })), false)).toBe(1);
  });
});

describe('dollars per million events', () => {
  const report: MeterReport = {
    label: 't',
    scenario: 'batched',
    events: 10,
    httpRequests: 10,
    lambda: { ingest: { memoryMb: 1024, invocations: 10, billedMs: 1000 }, worker: { memoryMb: 512, invocations: 1, billedMs: 0 } },
    sqs: { SendMessageBatch: 10, ReceiveMessage: 1, DeleteMessageBatch: 1 },
    emptyReceives: 3,
    webSocketMessages: 10,
    dynamodb: { 'events PutItem': { calls: 10, writeUnits: 10, indexWriteUnits: { byDay: 10 }, readUnits: 0 } },
    eventItemBytes: { mean: 900, max: 950 },
  };

  it('prices each line at its unit price, and drops the HTTP API fee behind a function URL', () => {
    const rows = costRows(report);
    const dollars = (operation: string) => rows.find((row) => row.operation.startsWith(operation))!.dollarsPerMillion;
    expect(dollars('HTTP API')).toBeCloseTo(1.0);
    expect(dollars('ingest duration')).toBeCloseTo(0.1 * 0.0000133334 * 1e6); // 100 ms at 1 GB per event
    expect(dollars('SendMessageBatch')).toBeCloseTo(0.4);
    expect(dollars('ReceiveMessage')).toBeCloseTo(0.04);
    expect(dollars('events PutItem: table')).toBeCloseTo(0.625);
    expect(dollars('WebSocket')).toBeCloseTo(1.0);
    const total = 1 + 0.2 + 1.33334 + 0.02 + 0.4 + 0.04 + 0.04 + 0.625 * 2 + 1;
    expect(totalPerMillion(rows)).toBeCloseTo(total, 4);
    expect(totalPerMillion(costRows(report, { ingestFront: 'function-url' }))).toBeCloseTo(total - 1, 4);
  });
});
