/**
 * The outbound delivery construct on a bare stack: the delivery queue and its DLQ as DELIVERY_QUEUE states them, the
 * worker's event source and concurrency, its whole grant, the DLQ alarm, and the publisher binding.
 */
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { DELIVERY_QUEUE, DELIVERY_WORKER_TIMEOUT_SECONDS } from '../../lambdas/adapters/sqs/queue-definitions';
import { HookhubFunction } from '../../lib/constructs/hookhub-function';
import { OutboundDelivery, type OutboundDeliveryProps } from '../../lib/constructs/outbound-delivery';
import { Storage } from '../../lib/constructs/storage';
import { permissionsOf } from './iam-permissions';

interface Built {
  stack: Stack;
  storage: Storage;
  delivery: OutboundDelivery;
  publisher: HookhubFunction;
  template: Template;
}

function build(props: Partial<OutboundDeliveryProps> = {}): Built {
  // Skip esbuild: these tests are about the template.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'DeliveryTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const storage = new Storage(stack, 'Storage');
  const delivery = new OutboundDelivery(stack, 'OutboundDelivery', {
    tables: {
      endpoints: storage.endpointsTable,
      messages: storage.messagesTable,
      deliveries: storage.deliveriesTable,
      attempts: storage.attemptsTable,
      eventTypes: storage.eventTypesTable,
    },
    connectionsTable: storage.connectionsTable,
    settings: { retentionDays: 30 },
    ...props,
  });
  const publisher = new HookhubFunction(stack, 'Publisher', { handler: 'sqsProcessInbound' });
  delivery.bindPublisher(publisher);
  return { stack, storage, delivery, publisher, template: Template.fromStack(stack) };
}

let built: Built;
beforeAll(() => {
  built = build();
});

const id = (construct: IConstruct) => built.stack.getLogicalId(construct.node.defaultChild as CfnElement);

function functionProperties(template: Template, fn: HookhubFunction, stack: Stack) {
  const logicalId = stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
  return template.findResources('AWS::Lambda::Function')[logicalId]!.Properties as Record<string, unknown> & {
    Environment: { Variables: Record<string, unknown> };
  };
}

describe('delivery queue', () => {
  it('is named for the stack and redrives to the DLQ after DELIVERY_QUEUE.maxReceiveCount receives', () => {
    built.template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'DeliveryTest-delivery',
      VisibilityTimeout: DELIVERY_QUEUE.visibilityTimeoutSeconds,
      MessageRetentionPeriod: DELIVERY_QUEUE.retentionDays * 86_400,
      MaximumMessageSize: DELIVERY_QUEUE.maxMessageBytes,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(built.delivery.deadLetterQueue), 'Arn'] }, maxReceiveCount: DELIVERY_QUEUE.maxReceiveCount },
    });
  });

  it('keeps a message invisible for at least 6× the worker timeout', () => {
    expect(DELIVERY_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * DELIVERY_WORKER_TIMEOUT_SECONDS);
    expect(functionProperties(built.template, built.delivery.worker, built.stack).Timeout).toBe(DELIVERY_WORKER_TIMEOUT_SECONDS);
  });

  it('has a DLQ that only the delivery queue may redrive into, sized like it', () => {
    const dlq = built.template.findResources('AWS::SQS::Queue')[id(built.delivery.deadLetterQueue)]!.Properties;
    expect(dlq).toMatchObject({
      MessageRetentionPeriod: DELIVERY_QUEUE.deadLetterRetentionDays * 86_400,
      MaximumMessageSize: DELIVERY_QUEUE.maxMessageBytes,
      SqsManagedSseEnabled: true,
      RedriveAllowPolicy: { redrivePermission: 'byQueue', sourceQueueArns: [expect.anything()] },
    });
    expect(JSON.stringify(dlq.RedriveAllowPolicy.sourceQueueArns)).toContain(':DeliveryTest-delivery');
  });

  it('requires TLS on both queues', () => {
    for (const queue of [built.delivery.queue, built.delivery.deadLetterQueue]) {
      built.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id(queue) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  it('alarms as soon as one task waits in the DLQ', () => {
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(built.delivery.deadLetterQueue), 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('delivery worker', () => {
  it('consumes the queue in batches of 10 with partial batch failures, at most 20 at once by default', () => {
    built.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [id(built.delivery.queue), 'Arn'] },
      FunctionName: { Ref: id(built.delivery.worker.function) },
      BatchSize: DELIVERY_QUEUE.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it('runs sqsDeliver with 512 MB and 20 reserved by default', () => {
    expect(built.delivery.worker.handlerName).toBe('sqsDeliver');
    expect(functionProperties(built.template, built.delivery.worker, built.stack)).toMatchObject({ MemorySize: 512, ReservedConcurrentExecutions: 20 });
  });

  it('reads its tables, queue and delivery settings from the environment', () => {
    const variables = functionProperties(built.template, built.delivery.worker, built.stack).Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual(
      [
        'HOOKHUB_ALLOW_PRIVATE_TARGETS',
        'HOOKHUB_ATTEMPTS_TABLE',
        'HOOKHUB_CONNECTIONS_TABLE',
        'HOOKHUB_DELIVERIES_TABLE',
        'HOOKHUB_DELIVERY_QUEUE_URL',
        'HOOKHUB_DELIVERY_TIMEOUT_MS',
        'HOOKHUB_ENDPOINTS_TABLE',
        'HOOKHUB_EVENT_TYPES_TABLE',
        'HOOKHUB_MESSAGES_TABLE',
        'HOOKHUB_OUTBOUND_HTTPS_ONLY',
        'HOOKHUB_OUTBOUND_RETENTION_DAYS',
        'POWERTOOLS_LOG_LEVEL',
      ].sort(),
    );
    expect(variables).toMatchObject({
      HOOKHUB_ENDPOINTS_TABLE: { Ref: id(built.storage.endpointsTable) },
      HOOKHUB_MESSAGES_TABLE: { Ref: id(built.storage.messagesTable) },
      HOOKHUB_DELIVERIES_TABLE: { Ref: id(built.storage.deliveriesTable) },
      HOOKHUB_ATTEMPTS_TABLE: { Ref: id(built.storage.attemptsTable) },
      HOOKHUB_EVENT_TYPES_TABLE: { Ref: id(built.storage.eventTypesTable) },
      HOOKHUB_CONNECTIONS_TABLE: { Ref: id(built.storage.connectionsTable) },
      HOOKHUB_DELIVERY_QUEUE_URL: { Ref: id(built.delivery.queue) },
      HOOKHUB_OUTBOUND_RETENTION_DAYS: '30',
      HOOKHUB_ALLOW_PRIVATE_TARGETS: '',
      HOOKHUB_OUTBOUND_HTTPS_ONLY: 'false',
      HOOKHUB_DELIVERY_TIMEOUT_MS: '15000',
    });
  });

  it('is granted exactly the calls it makes', () => {
    const role = built.stack.getLogicalId(built.delivery.worker.role.node.defaultChild as CfnElement);
    const dynamodb = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`).sort();
    expect(permissionsOf(built.template, role)).toEqual({
      [id(built.storage.endpointsTable)]: dynamodb('GetItem', 'Scan', 'UpdateItem'),
      [id(built.storage.messagesTable)]: dynamodb('BatchWriteItem', 'PutItem'),
      // On the tables only: the worker queries neither table's index.
      [id(built.storage.deliveriesTable)]: dynamodb('BatchWriteItem'),
      [id(built.storage.attemptsTable)]: dynamodb('BatchWriteItem', 'GetItem', 'UpdateItem'),
      [id(built.storage.eventTypesTable)]: dynamodb('UpdateItem'),
      [id(built.storage.connectionsTable)]: dynamodb('BatchWriteItem', 'Query'),
      [`${id(built.storage.connectionsTable)}/index/*`]: dynamodb('BatchWriteItem', 'Query'),
      // The event source's consume grant, and SendMessage for retries.
      [id(built.delivery.queue)]: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
      [id(built.delivery.worker.logGroup)]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    });
  });
});

describe('settings', () => {
  it('passes allowed private CIDRs and https-only to the worker', () => {
    const { template, delivery, stack } = build({ settings: { retentionDays: 7, allowPrivateTargets: ['10.0.0.0/8', 'fd00::/8'], httpsOnly: true } });
    expect(functionProperties(template, delivery.worker, stack).Environment.Variables).toMatchObject({
      HOOKHUB_ALLOW_PRIVATE_TARGETS: '10.0.0.0/8,fd00::/8',
      HOOKHUB_OUTBOUND_HTTPS_ONLY: 'true',
      HOOKHUB_OUTBOUND_RETENTION_DAYS: '7',
    });
  });

  it('refuses at synth what the worker could not use', () => {
    expect(() => build({ settings: { retentionDays: 30, allowPrivateTargets: ['10.0.0.0/8', 'intranet'] } })).toThrow(/allowPrivateTargets: not a CIDR .*: intranet$/);
    expect(() => build({ settings: { retentionDays: 0 } })).toThrow(/outbound retentionDays must be an integer from 1 to 3650 \(got 0\)/);
  });

  it('takes another reservation and event source cap, or no reservation with false', () => {
    const larger = build({ workerReservedConcurrency: 50, workerMaxConcurrency: 40 });
    expect(functionProperties(larger.template, larger.delivery.worker, larger.stack).ReservedConcurrentExecutions).toBe(50);
    larger.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 40 } });

    const unreserved = build({ workerReservedConcurrency: false, workerMaxConcurrency: 100 });
    unreserved.template.resourcePropertiesCountIs('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.anyValue() }, 0);
    unreserved.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 100 } });
  });

  it('refuses an event source cap above the reservation, and a reservation of 0', () => {
    expect(() => build({ workerMaxConcurrency: 30 })).toThrow(/workerMaxConcurrency 30 is above workerReservedConcurrency 20/);
    expect(() => build({ workerReservedConcurrency: 0 })).toThrow(/OutboundDelivery\/Worker: reservedConcurrency must be an integer of at least 1/);
  });
});

describe('publisher binding', () => {
  it('gives a publisher the endpoints, messages, event types and queue it needs, and nothing else outbound', () => {
    expect(functionProperties(built.template, built.publisher, built.stack).Environment.Variables).toMatchObject({
      HOOKHUB_ENDPOINTS_TABLE: { Ref: id(built.storage.endpointsTable) },
      HOOKHUB_MESSAGES_TABLE: { Ref: id(built.storage.messagesTable) },
      HOOKHUB_EVENT_TYPES_TABLE: { Ref: id(built.storage.eventTypesTable) },
      HOOKHUB_DELIVERY_QUEUE_URL: { Ref: id(built.delivery.queue) },
      HOOKHUB_OUTBOUND_RETENTION_DAYS: '30',
    });
    const role = built.stack.getLogicalId(built.publisher.role.node.defaultChild as CfnElement);
    expect(permissionsOf(built.template, role)).toEqual({
      [id(built.storage.endpointsTable)]: ['dynamodb:GetItem', 'dynamodb:Scan'],
      [id(built.storage.messagesTable)]: ['dynamodb:PutItem'],
      [id(built.storage.eventTypesTable)]: ['dynamodb:UpdateItem'],
      [id(built.delivery.queue)]: ['sqs:SendMessage'],
      [id(built.publisher.logGroup)]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    });
  });
});
