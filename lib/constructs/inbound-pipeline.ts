/**
 * Inbound queue → worker Lambda, with a dead-letter queue (redrive after maxReceiveCount, redrive-allow limited to
 * this queue) and an alarm as soon as anything lands in the DLQ. The event source caps how far the worker scales,
 * so a backlog drains steadily instead of taking the account's concurrency from ingest and the APIs.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INBOUND_QUEUE, WORKER_TIMEOUT_SECONDS } from '../../lambdas/adapters/sqs/queue-definitions';
import { HookhubFunction } from './hookhub-function';
import { tableIndexesFinding } from './nag-findings';
import { queueWithDeadLetter } from './queue-names';

export interface InboundPipelineProps {
  eventsTable: ITable;
  connectionsTable: ITable;
  /** JSON of the validated sources config (processors are looked up per source). */
  sourcesJson: string;
  retentionDays: number;
  /**
   * Most worker invocations at once (the SQS event source's maximum concurrency, 2 to 1,000). A backlog drains at
   * up to this many batches of 10 in parallel; the rest waits in the queue, which is what it is for.
   * @default 50
   */
  workerMaxConcurrency?: number;
}

export const DEFAULT_WORKER_MAX_CONCURRENCY = 50;

export class InboundPipeline extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly worker: HookhubFunction;
  public readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: InboundPipelineProps) {
    super(scope, id);
    // Named, so that the DLQ's redrive-allow policy can name it without a cycle (see queue-names.ts).
    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = queueWithDeadLetter(this, 'inbound', INBOUND_QUEUE));
    this.worker = new HookhubFunction(this, 'Worker', {
      handler: 'sqsProcessInbound',
      timeout: Duration.seconds(WORKER_TIMEOUT_SECONDS),
      environment: {
        HOOKHUB_SOURCES: props.sourcesJson,
        HOOKHUB_EVENTS_TABLE: props.eventsTable.tableName,
        HOOKHUB_CONNECTIONS_TABLE: props.connectionsTable.tableName,
        HOOKHUB_RETENTION_DAYS: String(props.retentionDays),
      },
    });
    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: INBOUND_QUEUE.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: props.workerMaxConcurrency ?? DEFAULT_WORKER_MAX_CONCURRENCY,
      }),
    );
    // Exactly the calls the worker makes: the conditional record/failure updates and the duplicate path's read on
    // events; subscriber lookups and stale-connection removal on connections.
    props.eventsTable.grant(this.worker.function, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    props.connectionsTable.grant(this.worker.function, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    for (const table of [props.eventsTable, props.connectionsTable]) {
      Validations.of(this.worker).acknowledge({ id: tableIndexesFinding(table), reason: "Queries on this table's own GSIs." });
    }

    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'Inbound events failed processing 5 times and wait in the dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
