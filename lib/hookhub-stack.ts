/** The hookhub stack: composes one construct per concern and wires them; resource details live in the constructs. */
import { CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { HookhubConfig } from '../lambdas/core/sources/source-definition';
import { AdminKey } from './constructs/admin-key';
import { Alarms } from './constructs/alarms';
import { deployableSourcesJson } from './constructs/deployable-config';
import { IngestApi } from './constructs/ingest-api';
import { InboundPipeline } from './constructs/inbound-pipeline';
import { ReadApi } from './constructs/read-api';
import { RealtimeApi } from './constructs/realtime-api';
import type { RouteThrottle } from './constructs/route-throttles';
import { Storage } from './constructs/storage';

export interface HookhubStackProps extends StackProps {
  config: HookhubConfig;
  /** Days an event is kept before DynamoDB TTL removes it. @default 30 */
  retentionDays?: number;
  /** What happens to the event store when the stack is deleted. @default RemovalPolicy.RETAIN */
  dataRemovalPolicy?: RemovalPolicy;
  /** Throttles and concurrency caps against floods; each has its own default (see HookhubLimits). */
  limits?: HookhubLimits;
}

/** See docs/decisions.md, "Abuse limits", for why each exists and what its default allows. */
export interface HookhubLimits {
  /** HTTP API stage default: any route without its own throttle, and the most any route may get. @default 1000 rps, burst 2000 */
  stageThrottle?: RouteThrottle;
  /** `ANY /hooks/{source}`. @default 500 rps, burst 1000 */
  ingestThrottle?: RouteThrottle;
  /** Each of `GET /api/events`, `GET /api/events/{id}`, `GET /health`. @default 10 rps, burst 20 */
  readApiThrottle?: RouteThrottle;
  /** Concurrency reserved for the ingest function; `false` on accounts whose quota cannot spare it. @default 100 */
  ingestReservedConcurrency?: number | false;
  /** Most concurrent worker invocations the queue may start. @default 50 */
  workerMaxConcurrency?: number;
}

export class HookhubStack extends Stack {
  /** The operational alarms, for wiring actions (an SNS topic, a pager) in the app. */
  public readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: HookhubStackProps) {
    super(scope, id, props);
    Tags.of(this).add('project', 'hookhub');
    const retentionDays = props.retentionDays ?? 30;
    const limits = props.limits ?? {};
    const sourcesJson = deployableSourcesJson({ config: props.config, retentionDays });

    const storage = new Storage(this, 'Storage', { removalPolicy: props.dataRemovalPolicy });
    const adminKey = new AdminKey(this, 'AdminKey');
    const pipeline = new InboundPipeline(this, 'InboundPipeline', {
      eventsTable: storage.eventsTable,
      connectionsTable: storage.connectionsTable,
      sourcesJson,
      retentionDays,
      workerMaxConcurrency: limits.workerMaxConcurrency,
    });
    const ingest = new IngestApi(this, 'IngestApi', {
      config: props.config,
      sourcesJson,
      inboundQueue: pipeline.queue,
      stageThrottle: limits.stageThrottle,
      ingestThrottle: limits.ingestThrottle,
      reservedConcurrency: limits.ingestReservedConcurrency,
    });
    new ReadApi(this, 'ReadApi', {
      httpApi: ingest.httpApi,
      stage: ingest.stage,
      throttle: limits.readApiThrottle,
      eventsTable: storage.eventsTable,
      inboundQueue: pipeline.queue,
      deadLetterQueue: pipeline.deadLetterQueue,
      adminKey: adminKey.secret,
      retentionDays,
    });
    const realtime = new RealtimeApi(this, 'RealtimeApi', { connectionsTable: storage.connectionsTable, adminKey: adminKey.secret });
    pipeline.worker.function.addEnvironment('HOOKHUB_WS_CALLBACK_URL', realtime.callbackUrl);
    realtime.grantPush(pipeline.worker);
    this.alarms = new Alarms(this, 'Alarms', { httpApi: ingest.httpApi, ingest: ingest.ingest, worker: pipeline.worker });

    new CfnOutput(this, 'WebhookBaseUrl', { value: `${ingest.url}hooks/` });
    new CfnOutput(this, 'ApiUrl', { value: ingest.url });
    new CfnOutput(this, 'WebSocketUrl', { value: realtime.url });
    new CfnOutput(this, 'AdminKeySecretArn', { value: adminKey.secret.secretArn });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: pipeline.deadLetterQueue.queueUrl });
  }
}
