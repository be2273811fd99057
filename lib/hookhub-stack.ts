/** The hookhub stack: composes one construct per concern and wires them; resource details live in the constructs. */
import { CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { HookhubConfig } from '../lambdas/core/sources/source-definition';
import { AdminKey } from './constructs/admin-key';
import { IngestApi } from './constructs/ingest-api';
import { InboundPipeline } from './constructs/inbound-pipeline';
import { ReadApi } from './constructs/read-api';
import { RealtimeApi } from './constructs/realtime-api';
import { Storage } from './constructs/storage';

export interface HookhubStackProps extends StackProps {
  config: HookhubConfig;
  /** Days an event is kept before DynamoDB TTL removes it. @default 30 */
  retentionDays?: number;
  /** What happens to the event store when the stack is deleted. @default RemovalPolicy.RETAIN */
  dataRemovalPolicy?: RemovalPolicy;
}

/** Lambda environment variables share a 4 KB budget; the sources config is one of them. */
const MAX_SOURCES_JSON_BYTES = 3000;

export class HookhubStack extends Stack {
  constructor(scope: Construct, id: string, props: HookhubStackProps) {
    super(scope, id, props);
    Tags.of(this).add('project', 'hookhub');
    const retentionDays = props.retentionDays ?? 30;
    const sourcesJson = JSON.stringify(props.config);
    if (Buffer.byteLength(sourcesJson) > MAX_SOURCES_JSON_BYTES) {
      throw new Error(`the sources config is ${Buffer.byteLength(sourcesJson)} bytes; Lambda environment space allows ${MAX_SOURCES_JSON_BYTES}`);
    }

    const storage = new Storage(this, 'Storage', { removalPolicy: props.dataRemovalPolicy });
    const adminKey = new AdminKey(this, 'AdminKey');
    const pipeline = new InboundPipeline(this, 'InboundPipeline', {
      eventsTable: storage.eventsTable,
      connectionsTable: storage.connectionsTable,
      sourcesJson,
      retentionDays,
    });
    const ingest = new IngestApi(this, 'IngestApi', { config: props.config, sourcesJson, inboundQueue: pipeline.queue });
    new ReadApi(this, 'ReadApi', {
      httpApi: ingest.httpApi,
      eventsTable: storage.eventsTable,
      inboundQueue: pipeline.queue,
      deadLetterQueue: pipeline.deadLetterQueue,
      adminKey: adminKey.secret,
      retentionDays,
    });
    const realtime = new RealtimeApi(this, 'RealtimeApi', { connectionsTable: storage.connectionsTable, adminKey: adminKey.secret });
    pipeline.worker.function.addEnvironment('HOOKHUB_WS_CALLBACK_URL', realtime.callbackUrl);
    realtime.grantPush(pipeline.worker);

    new CfnOutput(this, 'WebhookBaseUrl', { value: `${ingest.url}hooks/` });
    new CfnOutput(this, 'ApiUrl', { value: ingest.url });
    new CfnOutput(this, 'WebSocketUrl', { value: realtime.url });
    new CfnOutput(this, 'AdminKeySecretArn', { value: adminKey.secret.secretArn });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: pipeline.deadLetterQueue.queueUrl });
  }
}
