/**
 * The Ably preset on AWS, on the full stack with Ably sources in the config (and once without): the log and state
 * tables, the worker's processing-step grants, the history sync (variables, timeout, whole grant, a schedule per
 * source), the API (routes, variables, whole grant), the rule registration custom resource, the ingest function's
 * single-mode token, the synth-time refusals, and cdk-nag. ScheduledFunction and Storage also on a bare stack.
 */
import { App, RemovalPolicy, Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ABLY_MESSAGES_TABLE, ABLY_STATE_TABLE } from '../../lambdas/adapters/dynamodb/table-definitions';
import { loadAblyApiConfig, loadAblySyncConfig, loadAblyTables, loadWorkerConfig } from '../../lambdas/config';
import { parseHookhubConfig, type HookhubConfigInput } from '../../lambdas/core/sources/source-definition';
import { HTTP_ROUTES, routeKeyOf } from '../../lambdas/handlers/http/http-routes';
import { ablySyncRate, ablySyncTimeoutSeconds } from '../../lib/constructs/ably-integration';
import { ablySources, deployableSourcesJson } from '../../lib/constructs/deployable-config';
import type { HookhubFunction } from '../../lib/constructs/hookhub-function';
import { ScheduledFunction } from '../../lib/constructs/scheduled-function';
import { Storage } from '../../lib/constructs/storage';
import { HookhubStack, type HookhubStackProps } from '../../lib/hookhub-stack';
import { permissionsOf } from './iam-permissions';

const demo = { id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { secretName: 'hookhub/sources/demo' } } as const;
/** Every option the stack uses: a single-mode token, a Control API token, both channel filters, a 10-minute sync. */
const ably = {
  id: 'ably',
  preset: 'ably',
  secret: { env: 'ABLY_API_KEY', secretName: 'hookhub/sources/ably' },
  options: {
    channelFilter: '^smart',
    singleModeToken: { header: 'X-Ably-Token', secret: { secretName: 'hookhub/sources/ably-token' } },
    registration: { controlToken: { secretName: 'hookhub/ably-control' }, channelFilter: '^smartadmin-' },
    history: { intervalMinutes: 10, timeLimitSeconds: 300 },
  },
} as const;
/** The defaults but a 1-minute sync with a short time limit. */
const ablyMinutely = { id: 'ably-minutely', preset: 'ably', secret: { secretName: 'hookhub/sources/ably-minutely' }, options: { history: { intervalMinutes: 1, timeLimitSeconds: 30 } } } as const;
/** No schedule; a channel filter but no registration settings. */
const ablyQuiet = { id: 'ably-quiet', preset: 'ably', secret: { secretName: 'hookhub/sources/ably-quiet' }, options: { channelFilter: '^quiet', history: { intervalMinutes: 0 } } } as const;

interface Built {
  stack: HookhubStack;
  template: Template;
}

function build(sources: HookhubConfigInput['sources'], props: Partial<HookhubStackProps> = {}, stackName = 'AblyTest'): Built {
  // Skip esbuild: these tests are about the template.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HookhubStack(app, stackName, { config: parseHookhubConfig({ sources }), env: { account: '123456789012', region: 'eu-west-1' }, ...props });
  return { stack, template: Template.fromStack(stack) };
}

let built: Built;
let withoutAbly: Built;
beforeAll(() => {
  built = build([demo, ably, ablyMinutely, ablyQuiet], { limits: { ablyApiThrottle: { rateLimit: 5, burstLimit: 10 } } });
  withoutAbly = build([demo], {}, 'NoAblyTest');
});

const id = (construct: IConstruct, stack: Stack = built.stack) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const ablyRouteKeys = HTTP_ROUTES.filter((route) => route.functionName === 'http-ably-api').map(routeKeyOf);
const secretArn = (name: string) => `arn:AWS::Partition:secretsmanager:eu-west-1:123456789012:secret:${name}-??????`;
const dynamodb = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`).sort();
const readSecret = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];

function resource(template: Template, logicalId: string) {
  const found = template.toJSON().Resources[logicalId] as { Properties: Record<string, unknown> & { Environment: { Variables: Record<string, unknown> } }; DeletionPolicy?: string; UpdateReplacePolicy?: string; DependsOn?: string[] } | undefined;
  if (!found) throw new Error(`no resource ${logicalId}`);
  return found;
}

function roleOf(fn: HookhubFunction, stack: Stack = built.stack): string {
  return id(fn.role, stack);
}

/** A Storage table's logical id, by its definition's logical name. */
const storageTable = (logicalName: string) => id(built.stack.node.findChild('Storage').node.findChild(logicalName));
const child = <T extends IConstruct>(...path: string[]) => path.reduce<IConstruct>((scope, name) => scope.node.findChild(name), built.stack) as T;

/** The variables as a Lambda would see them: CloudFormation references replaced by placeholders of the right shape. */
function resolvedEnvironment(variables: Record<string, unknown>): Record<string, string> {
  const placeholder = (name: string) => (/_URL$/.test(name) ? 'https://placeholder.example/path' : /_SECRET$/.test(name) ? 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:placeholder' : 'placeholder');
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : placeholder(name)]));
}

describe('storage', () => {
  it('declares the Ably message log: id key, TTL, the byChannel and byDay GSIs projecting all, kept with the stack', () => {
    const table = resource(built.template, storageTable(ABLY_MESSAGES_TABLE.logicalName));
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byChannel',
          KeySchema: [
            { AttributeName: 'sourceChannel', KeyType: 'HASH' },
            { AttributeName: 'timestampId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'byDay',
          KeySchema: [
            { AttributeName: 'sourceDay', KeyType: 'HASH' },
            { AttributeName: 'timestampId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('keeps the sync state (cursors, leases, counters, runs) with the stack too: pk/sk, TTL, no index', () => {
    const table = resource(built.template, storageTable(ABLY_STATE_TABLE.logicalName));
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('deletes both with the stack when the removal policy says so', () => {
    const stack = new Stack();
    const storage = new Storage(stack, 'Storage', { removalPolicy: RemovalPolicy.DESTROY });
    const template = Template.fromStack(stack);
    for (const table of [storage.ablyMessagesTable, storage.ablyStateTable]) {
      expect(resource(template, id(table, stack)).DeletionPolicy).toBe('Delete');
    }
  });
});

describe('inbound worker', () => {
  const worker = () => child<HookhubFunction>('InboundPipeline', 'Worker');

  it('names both Ably tables, so its cold start finds them', () => {
    const variables = resource(built.template, id(worker().function)).Properties.Environment.Variables;
    expect(variables).toMatchObject({
      HOOKHUB_ABLY_MESSAGES_TABLE: { Ref: storageTable('AblyMessages') },
      HOOKHUB_ABLY_STATE_TABLE: { Ref: storageTable('AblyState') },
    });
    const environment = resolvedEnvironment(variables);
    expect(() => [loadWorkerConfig(environment), loadAblyTables(environment)]).not.toThrow();
  });

  it('may put into the log and update the counters, on the tables only, and nothing else of Ably', () => {
    const permissions = permissionsOf(built.template, roleOf(worker()));
    const messages = storageTable('AblyMessages');
    const state = storageTable('AblyState');
    expect(permissions[messages]).toEqual(['dynamodb:PutItem']);
    expect(permissions[state]).toEqual(['dynamodb:UpdateItem']);
    expect(Object.keys(permissions).filter((name) => name.startsWith(`${messages}/`) || name.startsWith(`${state}/`) || name.includes('secretsmanager'))).toEqual([]);
  });
});

/** The whole grant of a function that syncs (the sync function, and the API, which syncs on demand). */
function syncPermissions(logs: IConstruct): Record<string, string[]> {
  const realtime = child('RealtimeApi', 'WebSocketApi');
  return {
    [id(logs)]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    // The worker's store-once path: record and failure updates, the duplicate's read, subscribers and stale ones.
    [storageTable('Events')]: dynamodb('GetItem', 'UpdateItem'),
    [storageTable('Connections')]: dynamodb('BatchWriteItem', 'Query'),
    [`${storageTable('Connections')}/index/*`]: dynamodb('BatchWriteItem', 'Query'),
    // Publishing: the endpoints, the message, its event type, its delivery tasks.
    [storageTable('Endpoints')]: dynamodb('GetItem', 'Scan'),
    [storageTable('Messages')]: dynamodb('PutItem'),
    [storageTable('EventTypes')]: dynamodb('UpdateItem'),
    [id(child('OutboundDelivery', 'Queue'))]: ['sqs:SendMessage'],
    [`arn:AWS::Partition:execute-api:eu-west-1:123456789012:${id(realtime)}/live/*/@connections/*`]: ['execute-api:ManageConnections'],
    // The processing step and the sync state.
    [storageTable('AblyMessages')]: dynamodb('PutItem'),
    [storageTable('AblyState')]: dynamodb('GetItem', 'PutItem', 'Query', 'UpdateItem'),
    // The Ably sources' API keys, and no other secret.
    [secretArn('hookhub/sources/ably')]: readSecret,
    [secretArn('hookhub/sources/ably-minutely')]: readSecret,
    [secretArn('hookhub/sources/ably-quiet')]: readSecret,
  };
}

describe('history sync function', () => {
  const sync = () => built.stack.ablyIntegration.syncFunction;

  it('runs scheduledAblySync for the longest time limit of the Ably sources plus 60 s', () => {
    expect(sync().handlerName).toBe('scheduledAblySync');
    expect(resource(built.template, id(sync().function)).Properties).toMatchObject({ Timeout: 300 + 60, Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    // Without Ably sources: the default time limit (240 s).
    expect(resource(withoutAbly.template, id(withoutAbly.stack.ablyIntegration.syncFunction.function, withoutAbly.stack)).Properties.Timeout).toBe(300);
  });

  it('takes its timeout from the time limits, within Lambda’s 900 s', () => {
    const sources = (...limits: number[]) =>
      ablySources(parseHookhubConfig({ sources: limits.map((limit, index) => ({ ...ablyMinutely, id: `a${index}`, options: { history: { timeLimitSeconds: limit } } })) }));
    expect(ablySyncTimeoutSeconds(sources(120, 300))).toBe(360);
    expect(ablySyncTimeoutSeconds(sources(840))).toBe(900);
    expect(ablySyncTimeoutSeconds([])).toBe(300);
  });

  it("gets the worker's, the publisher's and the Ably tables' variables, Secrets Manager for the API keys, and no REST override", () => {
    const variables = resource(built.template, id(sync().function)).Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual(
      [
        'HOOKHUB_SOURCES',
        'HOOKHUB_EVENTS_TABLE',
        'HOOKHUB_CONNECTIONS_TABLE',
        'HOOKHUB_RETENTION_DAYS',
        'HOOKHUB_WS_CALLBACK_URL',
        'HOOKHUB_ENDPOINTS_TABLE',
        'HOOKHUB_MESSAGES_TABLE',
        'HOOKHUB_EVENT_TYPES_TABLE',
        'HOOKHUB_DELIVERY_QUEUE_URL',
        'HOOKHUB_OUTBOUND_RETENTION_DAYS',
        'HOOKHUB_ABLY_MESSAGES_TABLE',
        'HOOKHUB_ABLY_STATE_TABLE',
        'HOOKHUB_SECRETS_BACKEND',
        'POWERTOOLS_LOG_LEVEL',
      ].sort(),
    );
    const worker = resource(built.template, id(child<HookhubFunction>('InboundPipeline', 'Worker').function)).Properties.Environment.Variables;
    for (const name of ['HOOKHUB_SOURCES', 'HOOKHUB_EVENTS_TABLE', 'HOOKHUB_CONNECTIONS_TABLE', 'HOOKHUB_RETENTION_DAYS', 'HOOKHUB_WS_CALLBACK_URL', 'HOOKHUB_MESSAGES_TABLE', 'HOOKHUB_ABLY_STATE_TABLE']) {
      expect({ name, value: variables[name] }).toEqual({ name, value: worker[name] });
    }
    expect(variables.HOOKHUB_SECRETS_BACKEND).toBe('secrets-manager');
    const config = loadAblySyncConfig(resolvedEnvironment(variables));
    expect(config).toMatchObject({ secretsBackend: 'secrets-manager', ablyRestUrl: undefined, retentionDays: 30 });
    expect(config.sources.sources.map((source) => source.id)).toEqual(['demo', 'ably', 'ably-minutely', 'ably-quiet']);
  });

  it('is granted exactly the store-once path, publishing, pushing, the sync state and the API keys', () => {
    expect(permissionsOf(built.template, roleOf(sync()))).toEqual(syncPermissions(sync().logGroup));
  });
});

describe('schedules', () => {
  const rules = () => Object.values(built.template.findResources('AWS::Events::Rule'));

  it('runs the sync per Ably source with an interval, `rate(N minutes)`, with {"source": "<id>"}; none for interval 0', () => {
    const syncArn = { 'Fn::GetAtt': [id(built.stack.ablyIntegration.syncFunction.function), 'Arn'] };
    const schedules = rules().map((rule) => ({
      expression: rule.Properties.ScheduleExpression,
      targets: (rule.Properties.Targets as Array<{ Arn: unknown; Input: string }>).map((target) => ({ arn: target.Arn, input: JSON.parse(target.Input) as unknown })),
    }));
    expect(schedules).toEqual([
      { expression: 'rate(10 minutes)', targets: [{ arn: syncArn, input: { source: 'ably' } }] },
      { expression: 'rate(1 minute)', targets: [{ arn: syncArn, input: { source: 'ably-minutely' } }] },
    ]);
    expect(built.stack.ablyIntegration.schedules).toHaveLength(2);
    withoutAbly.template.resourceCountIs('AWS::Events::Rule', 0);
  });

  it('lets each rule, and only the rules, invoke the sync function', () => {
    const permissions = Object.values(built.template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'events.amazonaws.com' } }));
    expect(permissions.map((permission) => permission.Properties).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      Object.keys(built.template.findResources('AWS::Events::Rule'))
        .map((rule) => ({ Action: 'lambda:InvokeFunction', FunctionName: { 'Fn::GetAtt': [id(built.stack.ablyIntegration.syncFunction.function), 'Arn'] }, Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] } }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
  });

  it('writes the rate the way EventBridge takes it', () => {
    expect([ablySyncRate(1), ablySyncRate(5), ablySyncRate(1440)]).toEqual(['rate(1 minute)', 'rate(5 minutes)', 'rate(1440 minutes)']);
  });
});

describe('ScheduledFunction', () => {
  function scheduled(input?: Record<string, unknown>) {
    const stack = new Stack();
    const fn = new LambdaFunction(stack, 'Fn', { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler = async () => {}') });
    const schedule = new ScheduledFunction(stack, 'Cleanup', { schedule: Schedule.expression('rate(1 day)'), function: fn, input, description: 'retention cleanup' });
    return { stack, fn, schedule, template: Template.fromStack(stack) };
  }

  it('invokes the function on the schedule with the input, and exposes the rule and the function', () => {
    const { stack, fn, schedule, template } = scheduled({ task: 'cleanup' });
    expect(schedule.lambdaFunction).toBe(fn);
    template.resourceCountIs('AWS::Events::Rule', 1);
    expect(resource(template, id(schedule.eventsRule, stack)).Properties).toMatchObject({
      ScheduleExpression: 'rate(1 day)',
      Description: 'retention cleanup',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [id(fn, stack), 'Arn'] }, Id: 'Target0', Input: '{"task":"cleanup"}' }],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [id(schedule.eventsRule, stack), 'Arn'] } });
  });

  it('passes the scheduled event itself without an input', () => {
    const { stack, schedule, template } = scheduled();
    expect((resource(template, id(schedule.eventsRule, stack)).Properties.Targets as Array<Record<string, unknown>>)[0]).not.toHaveProperty('Input');
  });
});

describe('API function', () => {
  const api = () => built.stack.ablyIntegration.apiFunction;

  it('runs httpAblyApi for up to 29 s as AblyIntegrationApiFunction…', () => {
    expect(id(api().function)).toMatch(/^AblyIntegrationApiFunction[0-9A-F]{8}$/);
    expect(api().handlerName).toBe('httpAblyApi');
    expect(resource(built.template, id(api().function)).Properties.Timeout).toBe(29);
  });

  it("declares exactly the route table's Ably routes, to the API function, each with the configured throttle", () => {
    const httpApi = Object.keys(built.template.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }))[0]!;
    const integrations = built.template.findResources('AWS::ApiGatewayV2::Integration');
    const routes = Object.values(built.template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: httpApi } } })).filter((route) => {
      const integrationId = (route.Properties.Target['Fn::Join'] as [string, [string, { Ref: string }]])[1][1].Ref;
      return (integrations[integrationId]!.Properties.IntegrationUri['Fn::GetAtt'] as string[])[0] === id(api().function);
    });
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([...ablyRouteKeys].sort());
    expect(ablyRouteKeys).toEqual(['GET /api/ably/messages', 'GET /api/ably/stats', 'POST /api/sync/ably', 'GET /api/sync/runs']);
    expect(built.stack.ablyIntegration.routes).toHaveLength(ablyRouteKeys.length);

    const routeSettings = (template: Template) =>
      (Object.values(template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } }))[0]!.Properties.RouteSettings as Record<string, unknown>);
    for (const routeKey of ablyRouteKeys) {
      expect({ routeKey, throttle: routeSettings(built.template)[routeKey] }).toEqual({ routeKey, throttle: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 } });
      // 10 rps with a burst of 20 unless configured.
      expect({ routeKey, throttle: routeSettings(withoutAbly.template)[routeKey] }).toEqual({ routeKey, throttle: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } });
    }
  });

  it("gets the sync's variables and the admin key secret", () => {
    const variables = resource(built.template, id(api().function)).Properties.Environment.Variables;
    const syncVariables = resource(built.template, id(built.stack.ablyIntegration.syncFunction.function)).Properties.Environment.Variables;
    expect(variables).toEqual({ ...syncVariables, HOOKHUB_ADMIN_KEY_SECRET: { Ref: id(child('AdminKey', 'Secret')) } });
    expect(loadAblyApiConfig(resolvedEnvironment(variables)).adminKey).toEqual({ secretId: expect.stringContaining(':secret:') });
  });

  it("is granted the sync's grant, queries on the log and its GSIs, and the admin key", () => {
    const messages = storageTable('AblyMessages');
    expect(permissionsOf(built.template, roleOf(api()))).toEqual({
      ...syncPermissions(api().logGroup),
      [messages]: dynamodb('PutItem', 'Query'),
      [`${messages}/index/*`]: dynamodb('Query'),
      [id(child('AdminKey', 'Secret'))]: readSecret,
    });
  });
});

describe('rule registration', () => {
  const customResources = (template: Template) => template.findResources('Custom::AblyRule');

  it('ensures one rule per Ably source, pointing at its webhook URL, with the secrets and filters it names', () => {
    const httpApi = Object.keys(built.template.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }))[0]!;
    const targetUrl = (sourceId: string) => ({ 'Fn::Join': ['', ['https://', { Ref: httpApi }, '.execute-api.eu-west-1.', { Ref: 'AWS::URLSuffix' }, `/hooks/${sourceId}`]] });
    const properties = Object.values(customResources(built.template)).map((rule) => rule.Properties);
    expect(properties).toEqual([
      {
        ServiceToken: expect.anything(),
        SourceId: 'ably',
        TargetUrl: targetUrl('ably'),
        ApiKeySecretName: 'hookhub/sources/ably',
        ControlTokenSecretName: 'hookhub/ably-control',
        // The registration's own filter wins over the source's.
        ChannelFilter: '^smartadmin-',
        TokenHeaderName: 'x-ably-token',
        TokenSecretName: 'hookhub/sources/ably-token',
      },
      // Without a Control API token: created all the same (the handler logs how to register by hand).
      { ServiceToken: expect.anything(), SourceId: 'ably-minutely', TargetUrl: targetUrl('ably-minutely'), ApiKeySecretName: 'hookhub/sources/ably-minutely' },
      { ServiceToken: expect.anything(), SourceId: 'ably-quiet', TargetUrl: targetUrl('ably-quiet'), ApiKeySecretName: 'hookhub/sources/ably-quiet', ChannelFilter: '^quiet' },
    ]);
    for (const rule of Object.values(customResources(built.template))) {
      expect(rule.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AblyIntegrationRuleProviderframeworkonEvent/), 'Arn'] });
      // Registered once the stage, and with it the ingest route, exists.
      expect(rule.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^IngestApiDefaultStage/)]));
    }
    expect(built.stack.ablyIntegration.rules).toHaveLength(3);
  });

  it('relays to the rule handler through a provider with a role and a log group of its own', () => {
    const handler = built.stack.ablyIntegration.ruleHandler!;
    expect(handler.handlerName).toBe('customResourceAblyRule');
    const framework = Object.entries(built.template.findResources('AWS::Lambda::Function')).find(([logicalId]) => logicalId.startsWith('AblyIntegrationRuleProviderframeworkonEvent'))!;
    expect(framework[1].Properties.Environment.Variables).toEqual({ USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [id(handler.function), 'Arn'] } });
    const frameworkRole = (framework[1].Properties.Role['Fn::GetAtt'] as string[])[0]!;
    expect(resource(built.template, frameworkRole).Properties.ManagedPolicyArns).toBeUndefined();
    const logGroup = (framework[1].Properties.LoggingConfig.LogGroup as { Ref: string }).Ref;
    expect(resource(built.template, logGroup).Properties).toMatchObject({ RetentionInDays: 30 });
    expect(permissionsOf(built.template, frameworkRole)).toEqual({
      [logGroup]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [id(handler.function)]: ['lambda:GetFunction', 'lambda:InvokeFunction'],
      [`${id(handler.function)}:*`]: ['lambda:InvokeFunction'],
    });
  });

  it('lets the rule handler read the Ably secrets it is given, and nothing else', () => {
    const handler = built.stack.ablyIntegration.ruleHandler!;
    expect(permissionsOf(built.template, roleOf(handler))).toEqual({
      [id(handler.logGroup)]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      [secretArn('hookhub/sources/ably')]: readSecret,
      [secretArn('hookhub/ably-control')]: readSecret,
      [secretArn('hookhub/sources/ably-token')]: readSecret,
      [secretArn('hookhub/sources/ably-minutely')]: readSecret,
      [secretArn('hookhub/sources/ably-quiet')]: readSecret,
    });
  });

  it('is absent without Ably sources, while the API and the sync exist', () => {
    expect(withoutAbly.stack.ablyIntegration.ruleHandler).toBeUndefined();
    expect(Object.keys(customResources(withoutAbly.template))).toEqual([]);
    expect(Object.keys(withoutAbly.template.findResources('AWS::Lambda::Function')).filter((logicalId) => logicalId.startsWith('AblyIntegration')).sort()).toEqual([
      expect.stringMatching(/^AblyIntegrationApiFunction/),
      expect.stringMatching(/^AblyIntegrationSyncFunction/),
    ]);
  });
});

describe('ingest', () => {
  it("reads an Ably source's API key and single-mode token, and not the Control API token", () => {
    const secrets = Object.entries(permissionsOf(built.template, roleOf(child<HookhubFunction>('IngestApi', 'Ingest'))))
      .filter(([, actions]) => actions.includes('secretsmanager:GetSecretValue'))
      .map(([name]) => name)
      .sort();
    expect(secrets).toEqual(
      ['hookhub/sources/demo', 'hookhub/sources/ably', 'hookhub/sources/ably-token', 'hookhub/sources/ably-minutely', 'hookhub/sources/ably-quiet'].map(secretArn).sort(),
    );
  });
});

describe('refused at synth', () => {
  const deploy = (...sources: HookhubConfigInput['sources']) => () => deployableSourcesJson({ config: parseHookhubConfig({ sources }), retentionDays: 30 });

  it('an Ably source without secret.secretName, in its own terms and once', () => {
    expect(deploy({ ...ablyMinutely, secret: { env: 'ABLY_API_KEY' } })).toThrow(
      /^hookhub cannot be deployed to AWS with this configuration:\n {2}- source 'ably-minutely' \(preset 'ably'\) has no secret\.secretName: on AWS the ingest Lambda checks batch signatures and the history sync reads channel history with this Ably API key, read from Secrets Manager \(secret\.env is for the local runtime\)$/,
    );
  });

  it('a single-mode token or a Control API token without secretName, every problem at once', () => {
    const localTokens = {
      ...ably,
      options: { ...ably.options, singleModeToken: { secret: { env: 'ABLY_TOKEN' } }, registration: { controlToken: { env: 'ABLY_CONTROL_TOKEN' } } },
    };
    expect(deploy(demo, localTokens)).toThrow(
      /source 'ably' \(preset 'ably'\) has no options\.singleModeToken\.secret\.secretName: on AWS the ingest Lambda compares[^\n]*\n {2}- source 'ably' \(preset 'ably'\) has no options\.registration\.controlToken\.secretName: on AWS the deploy-time rule registration calls the Ably Control API with it/,
    );
  });

  it('a token secret name Secrets Manager refuses', () => {
    const badName = { ...ably, options: { ...ably.options, registration: { controlToken: { secretName: 'ably control token' } } } };
    expect(deploy(badName)).toThrow(/source 'ably': options\.registration\.controlToken\.secretName 'ably control token' is not a Secrets Manager name/);
  });

  it('but accepts Ably sources whose secrets all have names', () => {
    expect(deploy(demo, ably, ablyMinutely, ablyQuiet)).not.toThrow();
  });
});

describe('nag', () => {
  it('passes cdk-nag AWS Solutions checks with the Ably sources, the provider framework included', () => {
    const report = new AwsSolutionsChecks().validateScope(built.stack);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('leaves no role with a managed policy', () => {
    built.template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });
});
