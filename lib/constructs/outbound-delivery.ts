/**
 * Outbound delivery: the delivery queue (one task per message and endpoint; each retry is a new, delayed message)
 * → the delivery worker, with a dead-letter queue for tasks whose try keeps crashing and an alarm as soon as one
 * lands there. The worker has concurrency reserved, which is also its ceiling: a flood of retries to a slow receiver
 * can neither take the account's concurrency from ingest and the APIs nor be starved by them.
 *
 * Also the publisher binding: whoever publishes outbound messages (the inbound worker) gets the variables and the
 * grants to read endpoints, store the message and queue its tasks, in one call.
 */
import { grantOnTableOnly } from './table-grants';
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue, Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import ipaddr from 'ipaddr.js';
import { DELIVERY_QUEUE, DELIVERY_WORKER_TIMEOUT_SECONDS } from '../../lambdas/adapters/sqs/queue-definitions';
import { HookhubFunction } from './hookhub-function';
import { tableIndexesFinding } from './nag-findings';
import { queueWithDeadLetter } from './queue-names';

/** The outbound tables that publishing and delivering use. */
export interface OutboundTables {
  endpoints: ITable;
  messages: ITable;
  deliveries: ITable;
  attempts: ITable;
  eventTypes: ITable;
}

/** Settings the delivery worker and the management API (its test send, its URL checks) apply alike. */
export interface OutboundSettings {
  /** Days messages, deliveries and attempts are kept before DynamoDB TTL removes them (1 to 3650). */
  retentionDays: number;
  /**
   * CIDRs a webhook may be sent to although they are not global addresses (the SSRF guard refuses private, loopback
   * and link-local addresses otherwise).
   * @default none
   */
  allowPrivateTargets?: readonly string[];
  /**
   * Refuse endpoint URLs that are not https.
   * @default false
   */
  httpsOnly?: boolean;
}

export interface OutboundDeliveryProps {
  tables: OutboundTables;
  /** The worker pushes operational events (channel `ops`) to WebSocket subscribers. */
  connectionsTable: ITable;
  settings: OutboundSettings;
  /**
   * Concurrency reserved for the delivery worker, which is also the most it may use; `false` on accounts whose
   * quota cannot spare it (Lambda keeps 100 units unreserved: with the ingest reservation, the default needs a
   * quota of at least 220).
   * @default 20
   */
  workerReservedConcurrency?: number | false;
  /**
   * Most worker invocations the queue starts at once (the SQS event source's maximum concurrency, 2 to 1,000). At
   * most the reservation: invocations above it would be throttled and their messages received again, counting
   * towards the DLQ.
   * @default 20
   */
  workerMaxConcurrency?: number;
}

export const DEFAULT_DELIVERY_WORKER_RESERVED_CONCURRENCY = 20;
export const DEFAULT_DELIVERY_WORKER_MAX_CONCURRENCY = 20;
/** The webhook request timeout; the worker's timeout (DELIVERY_WORKER_TIMEOUT_SECONDS) leaves room for a batch of them. */
export const DELIVERY_REQUEST_TIMEOUT_MS = 15_000;

export class OutboundDelivery extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly worker: HookhubFunction;
  public readonly deadLetterAlarm: Alarm;
  private readonly tables: OutboundTables;
  private readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: OutboundDeliveryProps) {
    super(scope, id);
    this.tables = props.tables;
    this.retentionDays = props.settings.retentionDays;
    const reservedConcurrency = props.workerReservedConcurrency === false ? undefined : (props.workerReservedConcurrency ?? DEFAULT_DELIVERY_WORKER_RESERVED_CONCURRENCY);
    const maxConcurrency = props.workerMaxConcurrency ?? DEFAULT_DELIVERY_WORKER_MAX_CONCURRENCY;

    // Named, so that the DLQ's redrive-allow policy can name it without a cycle (see queue-names.ts).
    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = queueWithDeadLetter(this, 'delivery', DELIVERY_QUEUE));

    this.worker = new HookhubFunction(this, 'Worker', {
      handler: 'sqsDeliver',
      timeout: Duration.seconds(DELIVERY_WORKER_TIMEOUT_SECONDS),
      memorySize: 512,
      reservedConcurrency,
      environment: outboundEnvironment(props.tables, this.queue, props.connectionsTable, props.settings),
    });
    // Checked after the function has refused a reservation that is not a limit (0).
    if (reservedConcurrency !== undefined && maxConcurrency > reservedConcurrency) {
      throw new Error(
        `${this.node.path}: workerMaxConcurrency ${maxConcurrency} is above workerReservedConcurrency ${reservedConcurrency}; the invocations above the reservation would be throttled and their tasks received again towards the DLQ`,
      );
    }
    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: DELIVERY_QUEUE.batchSize, reportBatchItemFailures: true, maxConcurrency }),
    );

    // Exactly the calls the worker makes. Endpoints: the cache is filled by Scan, a single endpoint re-read by
    // GetItem, the failure run and disabling are conditional updates. Messages: a message record comes with its
    // first task and is written in the batch with the deliveries; an operational event no endpoint takes is put.
    // Deliveries: batched records. Attempts: batched records, hourly stats and rate-limit windows (updates, and the
    // limiter's read when a refused update carries no item) — on the tables only, as the worker queries no index.
    // Event types: the ops events' types are noted as seen. The queue: each retry is a new, delayed task.
    const fn = this.worker.function;
    props.tables.endpoints.grant(fn, 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Scan');
    props.tables.messages.grant(fn, 'dynamodb:PutItem', 'dynamodb:BatchWriteItem');
    grantOnTableOnly(fn, props.tables.deliveries, 'dynamodb:BatchWriteItem');
    grantOnTableOnly(fn, props.tables.attempts, 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    props.tables.eventTypes.grant(fn, 'dynamodb:UpdateItem');
    this.queue.grant(fn, 'sqs:SendMessage');
    props.connectionsTable.grant(fn, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    Validations.of(this.worker).acknowledge({
      id: tableIndexesFinding(props.connectionsTable),
      reason: "Subscriber lookups for the ops channel on the connections table's own GSI.",
    });

    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Delivery tasks the worker could not finish in ${DELIVERY_QUEUE.maxReceiveCount} receives (crashes or timeouts, not receiver errors) wait in the delivery dead-letter queue`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Lets `target` publish outbound messages: read the endpoints (Scan for the cache, GetItem), store the message,
   * note its event type as seen, and queue one task per matching endpoint.
   */
  bindPublisher(target: HookhubFunction): void {
    const fn = target.function;
    fn.addEnvironment('HOOKHUB_ENDPOINTS_TABLE', this.tables.endpoints.tableName);
    fn.addEnvironment('HOOKHUB_MESSAGES_TABLE', this.tables.messages.tableName);
    fn.addEnvironment('HOOKHUB_EVENT_TYPES_TABLE', this.tables.eventTypes.tableName);
    fn.addEnvironment('HOOKHUB_DELIVERY_QUEUE_URL', this.queue.queueUrl);
    fn.addEnvironment('HOOKHUB_OUTBOUND_RETENTION_DAYS', String(this.retentionDays));
    this.tables.endpoints.grant(fn, 'dynamodb:Scan', 'dynamodb:GetItem');
    this.tables.messages.grant(fn, 'dynamodb:PutItem');
    this.tables.eventTypes.grant(fn, 'dynamodb:UpdateItem');
    this.queue.grant(fn, 'sqs:SendMessage');
  }
}

/**
 * The variables of a function that delivers (the worker, the management API's test send): the outbound tables, the
 * delivery queue, the connections table for ops events, and the delivery settings. `HOOKHUB_WS_CALLBACK_URL` is set
 * by the stack, which owns the WebSocket API.
 */
export function outboundEnvironment(tables: OutboundTables, deliveryQueue: IQueue, connectionsTable: ITable, settings: OutboundSettings): Record<string, string> {
  return {
    HOOKHUB_ENDPOINTS_TABLE: tables.endpoints.tableName,
    HOOKHUB_MESSAGES_TABLE: tables.messages.tableName,
    HOOKHUB_DELIVERIES_TABLE: tables.deliveries.tableName,
    HOOKHUB_ATTEMPTS_TABLE: tables.attempts.tableName,
    HOOKHUB_EVENT_TYPES_TABLE: tables.eventTypes.tableName,
    HOOKHUB_DELIVERY_QUEUE_URL: deliveryQueue.queueUrl,
    HOOKHUB_CONNECTIONS_TABLE: connectionsTable.tableName,
    HOOKHUB_OUTBOUND_RETENTION_DAYS: String(checkedRetentionDays(settings.retentionDays)),
    // Comma-separated; empty: no private target is allowed.
    HOOKHUB_ALLOW_PRIVATE_TARGETS: checkedCidrs(settings.allowPrivateTargets ?? []).join(','),
    HOOKHUB_OUTBOUND_HTTPS_ONLY: String(settings.httpsOnly ?? false),
    HOOKHUB_DELIVERY_TIMEOUT_MS: String(DELIVERY_REQUEST_TIMEOUT_MS),
  };
}


function checkedRetentionDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new Error(`outbound retentionDays must be an integer from 1 to 3650 (got ${days})`);
  }
  return days;
}

function checkedCidrs(cidrs: readonly string[]): readonly string[] {
  const invalid = cidrs.filter((cidr) => !ipaddr.isValidCIDR(cidr));
  if (invalid.length > 0) {
    throw new Error(`outbound allowPrivateTargets: not a CIDR (such as 10.0.0.0/8 or fd00::/8): ${invalid.join(', ')}`);
  }
  return cidrs;
}
