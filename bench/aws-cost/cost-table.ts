/**
 * Turns what one metering run counted (meter.ts) into AWS requests and units per event and dollars per million
 * events at list prices (prices.ts). Pure, so the arithmetic is unit-tested.
 */
import { PRICES } from './prices';

export interface FunctionUsage {
  memoryMb: number;
  invocations: number;
  /** Sum over invocations of the duration rounded up to the next millisecond (Lambda's billing granularity). */
  billedMs: number;
}

export interface DynamoDbUsage {
  calls: number;
  /** Base-table write units (failed conditional writes included). */
  writeUnits: number;
  /** Write units per global secondary index. */
  indexWriteUnits: Record<string, number>;
  readUnits: number;
}

/** Everything one metering run counted for `events` inbound events. */
export interface MeterReport {
  label: string;
  scenario: string;
  events: number;
  /** POSTs answered by the ingest function (one HTTP API request each). */
  httpRequests: number;
  lambda: Record<'ingest' | 'worker', FunctionUsage>;
  /** SQS requests by operation, already counted in 64 KB chunks; `ReceiveMessage` holds only receives that returned messages. */
  sqs: Record<string, number>;
  /** Receives that returned nothing: the Lambda event source's polling, an idle cost, not per event. */
  emptyReceives: number;
  /** WebSocket messages sent to subscribers, counted in 32 KB increments. */
  webSocketMessages: number;
  /** Keyed `<table> <Operation>`. */
  dynamodb: Record<string, DynamoDbUsage>;
  /** Largest event item written, and the mean, in bytes as DynamoDB counts them. */
  eventItemBytes: { mean: number; max: number };
}

export type IngestFront = 'http-api' | 'function-url';

export interface CostRow {
  service: string;
  operation: string;
  /** Quantity per event, in `unit`. */
  perEvent: number;
  unit: string;
  dollarsPerMillion: number;
}

export function costRows(report: MeterReport, options: { ingestFront?: IngestFront } = {}): CostRow[] {
  const per = (quantity: number) => quantity / report.events;
  const row = (service: string, operation: string, quantity: number, unit: string, unitPrice: number): CostRow => ({
    service,
    operation,
    perEvent: per(quantity),
    unit,
    dollarsPerMillion: per(quantity) * unitPrice * 1e6,
  });
  const rows: CostRow[] = [];
  if ((options.ingestFront ?? 'http-api') === 'http-api') {
    rows.push(row('API Gateway', 'HTTP API request (POST /hooks/{source})', report.httpRequests, 'requests', PRICES.httpApiRequest));
  }
  for (const [name, usage] of Object.entries(report.lambda)) {
    rows.push(row('Lambda', `${name} invocations`, usage.invocations, 'requests', PRICES.lambdaRequest));
    const gbSeconds = (usage.billedMs / 1000) * (usage.memoryMb / 1024);
    rows.push(row('Lambda', `${name} duration (${usage.memoryMb} MB)`, gbSeconds, 'GB-s', PRICES.lambdaGbSecondArm));
  }
  for (const [operation, requests] of Object.entries(report.sqs).sort()) rows.push(row('SQS', operation, requests, 'requests', PRICES.sqsRequest));
  for (const [key, usage] of Object.entries(report.dynamodb).sort()) {
    if (usage.writeUnits > 0) rows.push(row('DynamoDB', `${key}: table`, usage.writeUnits, 'WRU', PRICES.dynamoDbWriteUnit));
    for (const [index, units] of Object.entries(usage.indexWriteUnits)) {
      if (units > 0) rows.push(row('DynamoDB', `${key}: index ${index}`, units, 'WRU', PRICES.dynamoDbWriteUnit));
    }
    if (usage.readUnits > 0) rows.push(row('DynamoDB', key, usage.readUnits, 'RRU', PRICES.dynamoDbReadUnit));
  }
  rows.push(row('API Gateway', 'WebSocket message to 1 subscriber', report.webSocketMessages, 'messages', PRICES.webSocketMessage));
  return rows;
}

export function totalPerMillion(rows: readonly CostRow[]): number {
  return rows.reduce((sum, row) => sum + row.dollarsPerMillion, 0);
}

/** Dollars per million events by service. */
export function byService(rows: readonly CostRow[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const row of rows) totals[row.service] = (totals[row.service] ?? 0) + row.dollarsPerMillion;
  return totals;
}

/**
 * Costs that do not grow with events: the event source's empty long polls (measured here as a count; on AWS the
 * pollers wait up to 20 s per receive, so an idle queue costs a few receives a minute) and one subscriber's
 * connection-minutes.
 */
export function idleCostPerMonth(options: { idleReceivesPerMinute: number; subscribers: number }): { sqs: number; webSocket: number } {
  const minutes = 30 * 24 * 60;
  return {
    sqs: options.idleReceivesPerMinute * minutes * PRICES.sqsRequest,
    webSocket: options.subscribers * minutes * PRICES.webSocketConnectionMinute,
  };
}
