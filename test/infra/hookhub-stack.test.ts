/** Facts about the synthesized template that matter for correctness and least privilege, and cdk-nag's verdict. */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HookhubStack, type HookhubStackProps } from '../../lib/hookhub-stack';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { HTTP_ROUTES, routeKeyOf } from '../../lambdas/handlers/http/http-routes';
import { TABLE_DEFINITIONS } from '../../lambdas/adapters/dynamodb/table-definitions';
import { permissionsOf } from './iam-permissions';

const config = parseHookhubConfig({
  sources: [
    { id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_DEMO_SECRET', secretName: 'hookhub/sources/demo' } },
    { id: 'github', verification: { scheme: 'hmac', header: 'X-Hub-Signature-256', prefix: 'sha256=' }, secret: { secretName: 'hookhub/sources/github' } },
  ],
});

let stack: Stack;
let template: Template;

beforeAll(() => {
  // Skip esbuild here: these tests are about the template, and `npm run bench` measures the real bundles.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = new HookhubStack(app, 'HookhubTest', { config, env: { account: '123456789012', region: 'eu-west-1' } });
  template = Template.fromStack(stack);
});

function roleOf(functionPathFragment: string): string {
  const functions = template.findResources('AWS::Lambda::Function');
  const [logicalId] = Object.keys(functions).filter((id) => id.includes(functionPathFragment));
  if (!logicalId) throw new Error(`no function matching ${functionPathFragment}`);
  return (functions[logicalId]!.Properties.Role['Fn::GetAtt'] as string[])[0]!;
}

function statementsOf(roleLogicalId: string): Array<{ Action: string | string[]; Resource: unknown }> {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

function tableNamed(logicalName: string): { DeletionPolicy?: string; Properties: Record<string, unknown> } {
  const tables = template.findResources('AWS::DynamoDB::Table');
  const ids = Object.keys(tables).filter((id) => new RegExp(`^Storage${logicalName}[0-9A-F]{8}$`).test(id));
  if (ids.length !== 1) throw new Error(`expected one table ${logicalName}, found ${ids.join(', ') || 'none'}`);
  return tables[ids[0]!] as { DeletionPolicy?: string; Properties: Record<string, unknown> };
}

const actionsOf = (roleLogicalId: string) => statementsOf(roleLogicalId).flatMap((statement) => [statement.Action].flat());

describe('inbound pipeline', () => {
  it('redrives to a DLQ after 5 receives, with visibility at least 6× the worker timeout', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'HookhubTest-inbound',
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] }, maxReceiveCount: 5 },
    });
    const queue = Object.values(template.findResources('AWS::SQS::Queue', { Properties: { QueueName: 'HookhubTest-inbound' } }))[0]!;
    const worker = template.findResources('AWS::Lambda::Function')[Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => id.includes('InboundPipelineWorker'))!]!;
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * worker.Properties.Timeout);
  });

  it('lets only the inbound queue redrive into the DLQ', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 14 * 86_400,
      RedriveAllowPolicy: { redrivePermission: 'byQueue', sourceQueueArns: [Match.objectLike({ 'Fn::Join': Match.anyValue() })] },
    });
  });

  it('consumes with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
  });

  it('alarms as soon as one message waits in the DLQ', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'QueueName'] } }],
    });
  });

  it('requires TLS on every queue', () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies.flatMap((policy) => policy.Properties.Queues).sort()).toEqual(queues.map((queue) => ({ Ref: queue })).sort());
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('storage', () => {
  it('keeps events on-demand with PITR, TTL, the listing GSIs and a Retain policy', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'byDay', Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['source', 'status'] } }),
          Match.objectLike({ IndexName: 'byStatusDay', Projection: { ProjectionType: 'KEYS_ONLY' } }),
        ],
      }),
    });
  });

  it('declares every shared table definition: on-demand, PITR, AWS-managed encryption, its keys, TTL and indexes', () => {
    for (const definition of TABLE_DEFINITIONS) {
      const table = tableNamed(definition.logicalName);
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
        KeySchema: [
          { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
          ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
        ],
      });
      const indexNames = ((table.Properties.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string }>).map((index) => index.IndexName);
      expect(indexNames).toEqual(definition.indexes.map((index) => index.indexName));
    }
  });

  it('retains the outbound data of record and deletes what can be rebuilt', () => {
    for (const name of ['Endpoints', 'Messages', 'Deliveries', 'Attempts', 'Audit']) {
      expect({ name, policy: tableNamed(name).DeletionPolicy }).toEqual({ name, policy: 'Retain' });
    }
    for (const name of ['IdempotencyKeys', 'EventTypes']) {
      expect({ name, policy: tableNamed(name).DeletionPolicy }).toEqual({ name, policy: 'Delete' });
    }
  });

  it('keeps connections with TTL and a channel index, deleted with the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byChannel' })],
      }),
    });
  });
});

describe('functions', () => {
  it('run Node 22 on arm64 with a log group of their own', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], LoggingConfig: { LogGroup: expect.anything() } });
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });
});

describe('least privilege', () => {
  it('lets ingest send to the inbound queue and read its source secrets, nothing else', () => {
    const role = roleOf('IngestApiIngest');
    const actions = actionsOf(role);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'secretsmanager:GetSecretValue']));
    expect(actions.some((action) => action.startsWith('dynamodb:'))).toBe(false);
    expect(actions).not.toContain('sqs:ReceiveMessage');
    const secretResources = JSON.stringify(statementsOf(role).filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue')));
    expect(secretResources).toContain('secret:hookhub/sources/demo-??????');
    expect(secretResources).toContain('secret:hookhub/sources/github-??????');
  });

  it('lets the worker consume the queue, write the tables and push to this stage only', () => {
    const actions = actionsOf(roleOf('InboundPipelineWorker'));
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'dynamodb:UpdateItem', 'dynamodb:Query', 'execute-api:ManageConnections']));
    expect(actions.filter((action) => /dynamodb:(DeleteItem|BatchGetItem)/.test(action))).toEqual([]);
    // What it does as an outbound publisher, and only there: Scan the endpoints, put the message, queue its tasks;
    // and as the Ably processing step: put the message into the Ably log (test/infra/ably-integration.test.ts).
    const permissions = permissionsOf(template, roleOf('InboundPipelineWorker'));
    const resourcesWith = (action: string) => Object.keys(permissions).filter((resource) => permissions[resource]!.includes(action));
    expect(resourcesWith('dynamodb:Scan')).toEqual([expect.stringMatching(/^StorageEndpoints[0-9A-F]{8}$/)]);
    expect(resourcesWith('dynamodb:PutItem').sort()).toEqual([expect.stringMatching(/^StorageAblyMessages[0-9A-F]{8}$/), expect.stringMatching(/^StorageMessages[0-9A-F]{8}$/)]);
    expect(resourcesWith('sqs:SendMessage')).toEqual([expect.stringMatching(/^OutboundDeliveryQueue[0-9A-F]{8}$/)]);
    const queryStatement = statementsOf(roleOf('InboundPipelineWorker')).find((statement) => [statement.Action].flat().includes('dynamodb:Query'));
    expect(JSON.stringify(queryStatement!.Resource)).toContain('/index/*');
    const pushStatement = statementsOf(roleOf('InboundPipelineWorker')).find((statement) => [statement.Action].flat().includes('execute-api:ManageConnections'));
    expect(JSON.stringify(pushStatement!.Resource)).toContain('/live/*/@connections/*');
  });

  it('keeps the read API read-only', () => {
    const actions = actionsOf(roleOf('ReadApiHandler'));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'sqs:GetQueueAttributes']));
    expect(actions.filter((action) => /dynamodb:(Put|Update|Delete|BatchWrite|Scan)/.test(action))).toEqual([]);
  });
});

describe('outbound', () => {
  it('lets the delivery worker and the management API push ops events to this stage only', () => {
    for (const fragment of ['OutboundDeliveryWorker', 'ManagementApiHandler']) {
      const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(fragment))![1];
      expect(fn.Properties.Environment.Variables.HOOKHUB_WS_CALLBACK_URL).toEqual(expect.objectContaining({ 'Fn::Join': expect.anything() }));
      const pushStatement = statementsOf(roleOf(fragment)).find((statement) => [statement.Action].flat().includes('execute-api:ManageConnections'));
      expect(JSON.stringify(pushStatement!.Resource)).toContain('/live/*/@connections/*');
    }
  });

  it('keeps outbound records as long as events unless configured', () => {
    const retentionOf = (stackTemplate: Template) =>
      Object.entries(stackTemplate.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('OutboundDeliveryWorker'))![1].Properties.Environment.Variables
        .HOOKHUB_OUTBOUND_RETENTION_DAYS;
    expect(retentionOf(template)).toBe('30');
    const synth = (props: Partial<HookhubStackProps>) =>
      Template.fromStack(new HookhubStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Retention', { config, ...props }));
    expect(retentionOf(synth({ retentionDays: 7 }))).toBe('7');
    expect(retentionOf(synth({ retentionDays: 7, outbound: { retentionDays: 90 } }))).toBe('90');
  });

  it('deletes the outbound data of record with the stack when dataRemovalPolicy says so', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const disposable = Template.fromStack(new HookhubStack(app, 'Disposable', { config, dataRemovalPolicy: RemovalPolicy.DESTROY }));
    disposable.resourceCountIs('AWS::DynamoDB::Table', TABLE_DEFINITIONS.length);
    disposable.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('outputs the delivery dead-letter queue URL', () => {
    template.hasOutput('DeliveryDeadLetterQueueUrl', { Value: { Ref: Match.stringLikeRegexp('^OutboundDeliveryDeadLetterQueue') } });
  });
});

describe('APIs', () => {
  it('routes webhooks (any method, for JSON 405s) and the read API on one HTTP API with access logs', () => {
    for (const routeKey of ['ANY /hooks/{source}', 'GET /api/events', 'GET /api/events/{id}', 'GET /health']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 1000 }),
    });
  });

  it('declares every route of the shared route table, and a $default route so unmatched requests get a JSON 404/405', () => {
    const httpApi = Object.keys(template.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }));
    expect(httpApi).toHaveLength(1);
    for (const routeKey of [...HTTP_ROUTES.map(routeKeyOf), '$default']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { ApiId: { Ref: httpApi[0] }, RouteKey: routeKey });
    }
    // `$default` goes to the read API function, which answers it without the admin key.
    const integrationOf = (routeKey: string) =>
      (Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: httpApi[0] }, RouteKey: routeKey } }))[0]!.Properties
        .Target as { 'Fn::Join': unknown }) ?? undefined;
    expect(integrationOf('$default')).toEqual(integrationOf('GET /api/events'));
  });

  it('declares no route the table lacks, and sends each route to the function the table names', () => {
    const httpApi = Object.keys(template.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }))[0]!;
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: httpApi } } }));
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([...HTTP_ROUTES.map(routeKeyOf), '$default'].sort());

    const functionIds: Record<(typeof HTTP_ROUTES)[number]['functionName'], RegExp> = {
      'http-ingest': /^IngestApiIngestFunction[0-9A-F]{8}$/,
      'http-read-api': /^ReadApiHandlerFunction[0-9A-F]{8}$/,
      'http-management-api': /^ManagementApiHandlerFunction[0-9A-F]{8}$/,
      'http-ably-api': /^AblyIntegrationApiFunction[0-9A-F]{8}$/,
    };
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    const functionOf = (routeKey: string) => {
      const route = routes.find((candidate) => candidate.Properties.RouteKey === routeKey)!;
      const integrationId = (route.Properties.Target['Fn::Join'] as [string, [string, { Ref: string }]])[1][1].Ref;
      return (integrations[integrationId]!.Properties.IntegrationUri['Fn::GetAtt'] as string[])[0];
    };
    for (const route of HTTP_ROUTES) {
      expect({ route: routeKeyOf(route), function: functionOf(routeKeyOf(route)) }).toEqual({ route: routeKeyOf(route), function: expect.stringMatching(functionIds[route.functionName]) });
    }
  });

  it('routes $connect, $disconnect and $default on the WebSocket API', () => {
    for (const routeKey of ['$connect', '$disconnect', '$default']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey });
    }
  });

  it('generates the admin key in Secrets Manager, never in the template', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true } });
  });
});

describe('tags and nag', () => {
  it('tags every taggable resource with project=hookhub', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    for (const table of tables) expect(table.Properties.Tags).toContainEqual({ Key: 'project', Value: 'hookhub' });
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    for (const queue of queues) expect(queue.Properties.Tags).toContainEqual({ Key: 'project', Value: 'hookhub' });
  });

  it('passes cdk-nag AWS Solutions checks with every exception acknowledged for a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('refuses a sources config too large for the Lambda environment', () => {
    const big = parseHookhubConfig({
      sources: Array.from({ length: 40 }, (_, index) => ({ id: `source-${index}`, verification: { scheme: 'token', header: 'x-token' }, secret: { secretName: `hookhub/sources/source-${index}` } })),
    });
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new HookhubStack(app, 'TooBig', { config: big })).toThrow(/Lambda environment space/);
  });
});
