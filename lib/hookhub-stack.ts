/** The hookhub stack: composes one construct per concern and wires them; resource details live in the constructs. */
import { CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { HookhubConfig } from '../lambdas/core/sources/source-definition';
import { AblyIntegration } from './constructs/ably-integration';
import { AdminKey } from './constructs/admin-key';
import { Alarms } from './constructs/alarms';
import { deployableEventTypesJson, deployableSourcesJson } from './constructs/deployable-config';
import { IngestApi } from './constructs/ingest-api';
import { InboundPipeline } from './constructs/inbound-pipeline';
import { ManagementApi } from './constructs/management-api';
import { OutboundDelivery } from './constructs/outbound-delivery';
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
  /** Outbound webhooks: delivery settings, the delivery worker's concurrency and the management API's throttle. */
  outbound?: HookhubOutboundProps;
}

export interface HookhubOutboundProps {
  /** Days outbound messages, deliveries and attempts are kept before DynamoDB TTL removes them. @default the stack's retentionDays */
  retentionDays?: number;
  /** CIDRs webhooks may be sent to although they are not global addresses. @default none */
  allowPrivateTargets?: string[];
  /** Refuse endpoint URLs that are not https. @default false */
  httpsOnly?: boolean;
  /** Concurrency reserved for the delivery worker; `false` on accounts whose quota cannot spare it. @default 20 */
  workerReservedConcurrency?: number | false;
  /** Most concurrent delivery worker invocations the delivery queue may start; at most the reservation. @default 20 */
  workerMaxConcurrency?: number;
  /** Each management route (`/api/endpoints…`, `/api/messages…`, `/api/attempts…`, `/api/event-types`, `/api/audit`). @default 20 rps, burst 40 */
  managementThrottle?: RouteThrottle;
}

/** See docs/decisions.md, "Abuse limits", for why each exists and what its default allows. */
export interface HookhubLimits {
  /** HTTP API stage default: any route without its own throttle, and the most any route may get. @default 1000 rps, burst 2000 */
  stageThrottle?: RouteThrottle;
  /** `ANY /hooks/{source}`. @default 500 rps, burst 1000 */
  ingestThrottle?: RouteThrottle;
  /** Each of `GET /api/events`, `GET /api/events/{id}`, `GET /health`. @default 10 rps, burst 20 */
  readApiThrottle?: RouteThrottle;
  /** Each Ably route (`/api/ably/…`, `/api/sync/…`). @default 10 rps, burst 20 */
  ablyApiThrottle?: RouteThrottle;
  /** Concurrency reserved for the ingest function; `false` on accounts whose quota cannot spare it. @default 100 */
  ingestReservedConcurrency?: number | false;
  /** Most concurrent worker invocations the queue may start. @default 50 */
  workerMaxConcurrency?: number;
}

export class HookhubStack extends Stack {
  /** The operational alarms, for wiring actions (an SNS topic, a pager) in the app. */
  public readonly alarms: Alarms;
  /** The Ably preset's functions (`ablyIntegration.syncFunction` runs a history sync), routes, schedules and rules. */
  public readonly ablyIntegration: AblyIntegration;

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
    const outbound = props.outbound ?? {};
    const outboundTables = {
      endpoints: storage.endpointsTable,
      messages: storage.messagesTable,
      deliveries: storage.deliveriesTable,
      attempts: storage.attemptsTable,
      eventTypes: storage.eventTypesTable,
    };
    const outboundSettings = {
      retentionDays: outbound.retentionDays ?? retentionDays,
      allowPrivateTargets: outbound.allowPrivateTargets,
      httpsOnly: outbound.httpsOnly,
    };
    const delivery = new OutboundDelivery(this, 'OutboundDelivery', {
      tables: outboundTables,
      connectionsTable: storage.connectionsTable,
      settings: outboundSettings,
      workerReservedConcurrency: outbound.workerReservedConcurrency,
      workerMaxConcurrency: outbound.workerMaxConcurrency,
    });
    // Every processed inbound event is also published as an outbound message.
    delivery.bindPublisher(pipeline.worker);
    const management = new ManagementApi(this, 'ManagementApi', {
      httpApi: ingest.httpApi,
      stage: ingest.stage,
      throttle: outbound.managementThrottle,
      tables: outboundTables,
      idempotencyTable: storage.idempotencyTable,
      auditTable: storage.auditTable,
      connectionsTable: storage.connectionsTable,
      deliveryQueue: delivery.queue,
      adminKey: adminKey.secret,
      eventTypesJson: deployableEventTypesJson(props.config),
      settings: outboundSettings,
    });
    const realtime = new RealtimeApi(this, 'RealtimeApi', { connectionsTable: storage.connectionsTable, adminKey: adminKey.secret });
    // The inbound worker pushes events; the delivery worker and the management API push operational events (`ops`).
    for (const pusher of [pipeline.worker, delivery.worker, management.function]) {
      pusher.function.addEnvironment('HOOKHUB_WS_CALLBACK_URL', realtime.callbackUrl);
      realtime.grantPush(pusher);
    }
    // The Ably preset: the API and the sync exist always (their routes are in the route table); schedules and rule
    // registrations per Ably source. The worker runs the preset's processing step; the sync and the API store,
    // publish and push events as the worker does (the construct binds them to the delivery and realtime APIs).
    this.ablyIntegration = new AblyIntegration(this, 'AblyIntegration', {
      config: props.config,
      httpApi: ingest.httpApi,
      stage: ingest.stage,
      messagesTable: storage.ablyMessagesTable,
      stateTable: storage.ablyStateTable,
      storeOnce: { eventsTable: storage.eventsTable, connectionsTable: storage.connectionsTable, sourcesJson, retentionDays },
      publisher: delivery,
      realtime,
      adminKey: adminKey.secret,
      throttle: limits.ablyApiThrottle,
    });
    this.ablyIntegration.bindProcessingStep(pipeline.worker);
    this.alarms = new Alarms(this, 'Alarms', { httpApi: ingest.httpApi, ingest: ingest.ingest, worker: pipeline.worker });

    new CfnOutput(this, 'WebhookBaseUrl', { value: `${ingest.url}hooks/` });
    new CfnOutput(this, 'ApiUrl', { value: ingest.url });
    new CfnOutput(this, 'WebSocketUrl', { value: realtime.url });
    new CfnOutput(this, 'AdminKeySecretArn', { value: adminKey.secret.secretArn });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: pipeline.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DeliveryDeadLetterQueueUrl', { value: delivery.deadLetterQueue.queueUrl });
  }
}
