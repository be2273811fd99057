/**
 * Alarms on the signs of abuse and breakage that the DLQ alarm does not see: webhook requests refused for their
 * signature (a flood of unsigned requests, or a provider whose secret no longer matches), 5xx answers from the HTTP
 * API (ingest or read errors, and Lambda throttling, which API Gateway answers with a 500), and worker invocations
 * that failed as a whole. The verification failures come from the ingest function's own log line
 * (`"message":"request refused","status":401`), so no handler code publishes metrics.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, Stats, TreatMissingData, type Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HookhubFunction } from './hookhub-function';

export interface AlarmsProps {
  httpApi: IHttpApi;
  /** The ingest function: its log group carries one "request refused" line per refused webhook. */
  ingest: HookhubFunction;
  worker: HookhubFunction;
  /**
   * Webhook requests refused with 401 (missing or invalid signature, missing or stale timestamp) in 5 minutes that
   * raise the alarm.
   * @default 20
   */
  verificationFailuresThreshold?: number;
  /**
   * 5xx answers of the HTTP API in 5 minutes that raise the alarm.
   * @default 5
   */
  serverErrorsThreshold?: number;
  /**
   * Worker invocations that failed as a whole in 5 minutes (a crash, a timeout, a cold start that could not load its
   * config; per-record failures are reported to SQS, not thrown, so they do not count).
   * @default 1
   */
  workerErrorsThreshold?: number;
}

const PERIOD = Duration.minutes(5);

export class Alarms extends Construct {
  /** Refused webhook requests (401), namespace `Hookhub/<stack name>`, so two stacks in one account stay apart. */
  public readonly verificationFailures: Metric;
  public readonly verificationFailuresAlarm: Alarm;
  public readonly serverErrorsAlarm: Alarm;
  public readonly workerErrorsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const filter = new MetricFilter(this, 'VerificationFailuresFilter', {
      logGroup: props.ingest.logGroup,
      filterPattern: FilterPattern.all(
        FilterPattern.stringValue('$.message', '=', 'request refused'),
        FilterPattern.numberValue('$.status', '=', 401),
      ),
      metricNamespace: `Hookhub/${Stack.of(this).stackName}`,
      metricName: 'VerificationFailures',
      metricValue: '1',
    });
    this.verificationFailures = filter.metric({ statistic: Stats.SUM, period: PERIOD });

    this.verificationFailuresAlarm = this.alarm('VerificationFailuresAlarm', {
      description: 'Webhook requests refused for a missing or invalid signature or timestamp: a flood of unsigned requests, or a provider whose secret no longer matches',
      metric: this.verificationFailures,
      threshold: props.verificationFailuresThreshold ?? 20,
    });
    this.serverErrorsAlarm = this.alarm('ServerErrorsAlarm', {
      description: 'The HTTP API answered 5xx: handler errors, or Lambda throttling (reserved concurrency or account quota reached)',
      metric: props.httpApi.metricServerError({ statistic: Stats.SUM, period: PERIOD }),
      threshold: props.serverErrorsThreshold ?? 5,
    });
    this.workerErrorsAlarm = this.alarm('WorkerErrorsAlarm', {
      description: 'Worker invocations failed as a whole (crash, timeout or cold-start error); their messages are retried and may reach the DLQ',
      metric: props.worker.function.metricErrors({ statistic: Stats.SUM, period: PERIOD }),
      threshold: props.workerErrorsThreshold ?? 1,
    });
  }

  private alarm(id: string, options: { description: string; metric: Metric; threshold: number }): Alarm {
    return new Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
