/**
 * The management API construct on a bare stack: its routes are the route table's management routes, each
 * throttled, and its function has the settings, variables and whole grant the routes need.
 */
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { HTTP_ROUTES, routeKeyOf } from '../../lambdas/handlers/http/http-routes';
import { AdminKey } from '../../lib/constructs/admin-key';
import { ManagementApi, type ManagementApiProps } from '../../lib/constructs/management-api';
import { Storage } from '../../lib/constructs/storage';
import { permissionsOf } from './iam-permissions';

interface Built {
  stack: Stack;
  storage: Storage;
  queue: Queue;
  adminKey: AdminKey;
  management: ManagementApi;
  template: Template;
}

function build(props: Partial<ManagementApiProps> = {}): Built {
  // Skip esbuild: these tests are about the template.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ManagementTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const httpApi = new HttpApi(stack, 'HttpApi', { createDefaultStage: false });
  const stage = new HttpStage(stack, 'Stage', { httpApi, stageName: '$default', autoDeploy: true, throttle: { rateLimit: 100, burstLimit: 200 } });
  const storage = new Storage(stack, 'Storage');
  const queue = new Queue(stack, 'DeliveryQueue');
  const adminKey = new AdminKey(stack, 'AdminKey');
  const management = new ManagementApi(stack, 'ManagementApi', {
    httpApi,
    stage,
    tables: {
      endpoints: storage.endpointsTable,
      messages: storage.messagesTable,
      deliveries: storage.deliveriesTable,
      attempts: storage.attemptsTable,
      eventTypes: storage.eventTypesTable,
    },
    idempotencyTable: storage.idempotencyTable,
    auditTable: storage.auditTable,
    connectionsTable: storage.connectionsTable,
    deliveryQueue: queue,
    adminKey: adminKey.secret,
    eventTypesJson: '[]',
    settings: { retentionDays: 30 },
    ...props,
  });
  return { stack, storage, queue, adminKey, management, template: Template.fromStack(stack) };
}

let built: Built;
beforeAll(() => {
  built = build();
});

const id = (construct: IConstruct) => built.stack.getLogicalId(construct.node.defaultChild as CfnElement);
const managementRouteKeys = HTTP_ROUTES.filter((route) => route.functionName === 'http-management-api').map(routeKeyOf);

function functionProperties() {
  return built.template.findResources('AWS::Lambda::Function')[id(built.management.function.function)]!.Properties as Record<string, unknown> & {
    Environment: { Variables: Record<string, unknown> };
  };
}

describe('routes', () => {
  it("declares exactly the route table's management routes, PATCH and DELETE included, all to the management function", () => {
    const routes = Object.values(built.template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([...managementRouteKeys].sort());
    expect(managementRouteKeys).toEqual(expect.arrayContaining(['PATCH /api/endpoints/{id}', 'DELETE /api/endpoints/{id}']));

    const integrations = built.template.findResources('AWS::ApiGatewayV2::Integration');
    for (const route of routes) {
      const integrationId = (route.Properties.Target['Fn::Join'] as [string, [string, { Ref: string }]])[1][1].Ref;
      expect(integrations[integrationId]!.Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [id(built.management.function.function), 'Arn'] });
    }
  });

  it('throttles each route on its own, 20 rps with a burst of 40 by default', () => {
    const stage = Object.values(built.template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    expect(stage.Properties.RouteSettings).toEqual(
      Object.fromEntries(managementRouteKeys.map((routeKey) => [routeKey, { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 }])),
    );
  });

  it('takes another throttle, within the stage default', () => {
    const custom = build({ throttle: { rateLimit: 5, burstLimit: 10 } });
    const stage = Object.values(custom.template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    expect(stage.Properties.RouteSettings['POST /api/messages']).toEqual({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 });
    expect(() => build({ throttle: { rateLimit: 500, burstLimit: 1000 } })).toThrow(/POST \/api\/endpoints.*rateLimit 500 is above the stage default of 100/);
  });
});

describe('function', () => {
  it('runs httpManagementApi for up to 30 s, as the test send waits up to 15 s for the receiver', () => {
    expect(built.management.function.handlerName).toBe('httpManagementApi');
    expect(functionProperties()).toMatchObject({ Timeout: 30, MemorySize: 512 });
  });

  it("reads the worker's variables plus idempotency, audit, admin key and sources from the environment", () => {
    const variables = functionProperties().Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual(
      [
        'HOOKHUB_ADMIN_KEY_SECRET',
        'HOOKHUB_ALLOW_PRIVATE_TARGETS',
        'HOOKHUB_ATTEMPTS_TABLE',
        'HOOKHUB_AUDIT_TABLE',
        'HOOKHUB_CONNECTIONS_TABLE',
        'HOOKHUB_DELIVERIES_TABLE',
        'HOOKHUB_DELIVERY_QUEUE_URL',
        'HOOKHUB_DELIVERY_TIMEOUT_MS',
        'HOOKHUB_ENDPOINTS_TABLE',
        'HOOKHUB_EVENT_TYPES_TABLE',
        'HOOKHUB_IDEMPOTENCY_TABLE',
        'HOOKHUB_MESSAGES_TABLE',
        'HOOKHUB_OUTBOUND_HTTPS_ONLY',
        'HOOKHUB_OUTBOUND_RETENTION_DAYS',
        'HOOKHUB_EVENT_TYPES',
        'POWERTOOLS_LOG_LEVEL',
      ].sort(),
    );
    expect(variables).toMatchObject({
      HOOKHUB_IDEMPOTENCY_TABLE: { Ref: id(built.storage.idempotencyTable) },
      HOOKHUB_AUDIT_TABLE: { Ref: id(built.storage.auditTable) },
      HOOKHUB_ADMIN_KEY_SECRET: { Ref: id(built.adminKey.secret) },
      HOOKHUB_DELIVERY_QUEUE_URL: { Ref: id(built.queue) },
      HOOKHUB_EVENT_TYPES: '[]',
      HOOKHUB_DELIVERY_TIMEOUT_MS: '15000',
    });
  });

  it('is granted exactly what its routes do', () => {
    const role = built.stack.getLogicalId(built.management.function.role.node.defaultChild as CfnElement);
    const dynamodb = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`).sort();
    const deliveryLog = dynamodb('BatchGetItem', 'BatchWriteItem', 'GetItem', 'Query');
    expect(permissionsOf(built.template, role)).toEqual({
      [id(built.storage.endpointsTable)]: dynamodb('DeleteItem', 'GetItem', 'PutItem', 'Scan', 'UpdateItem'),
      [id(built.storage.messagesTable)]: dynamodb('BatchGetItem', 'GetItem', 'PutItem'),
      [id(built.storage.deliveriesTable)]: deliveryLog,
      [`${id(built.storage.deliveriesTable)}/index/*`]: deliveryLog,
      [id(built.storage.attemptsTable)]: deliveryLog,
      [`${id(built.storage.attemptsTable)}/index/*`]: deliveryLog,
      [id(built.storage.idempotencyTable)]: dynamodb('GetItem', 'PutItem', 'UpdateItem'),
      [id(built.storage.auditTable)]: dynamodb('PutItem', 'Query'),
      [id(built.storage.eventTypesTable)]: dynamodb('Scan', 'UpdateItem'),
      [id(built.storage.connectionsTable)]: dynamodb('BatchWriteItem', 'Query'),
      [`${id(built.storage.connectionsTable)}/index/*`]: dynamodb('BatchWriteItem', 'Query'),
      [id(built.queue)]: ['sqs:SendMessage'],
      [id(built.adminKey.secret)]: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      [id(built.management.function.logGroup)]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    });
  });
});
