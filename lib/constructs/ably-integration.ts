/**
 * The Ably preset on AWS: the message log API, the history sync, a sync schedule per Ably source, and the
 * deploy-time registration of each source's integration rule at Ably.
 *
 * - The API function (`GET /api/ably/messages`, `GET /api/ably/stats`, `POST /api/sync/ably`, `GET /api/sync/runs`:
 *   the route table's `http-ably-api` routes) reads the log and the sync state, and runs a sync on demand.
 * - The sync function reads channel history and stores what webhooks missed through the inbound worker's store-once
 *   path: it stores, processes, publishes and pushes each event exactly as the worker does.
 * - The inbound worker runs the Ably processing step (bindProcessingStep): it writes the log and the counters.
 * - Per source, EventBridge runs the sync every `options.history.intervalMinutes`, and a custom resource ensures the
 *   source's webhook rule through the Ably Control API (or logs how to create it by hand; it never fails a deploy).
 *
 * The API and sync functions exist whatever the config holds (the routes are part of the API); the schedules and the
 * rule registration exist per Ably source.
 */
import { grantOnTableOnly } from './table-grants';
import { ABLY_SYNC_GRACE_SECONDS } from '../../lambdas/providers/ably/ably-options';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi, type HttpRoute, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { HookhubConfig } from '../../lambdas/core/sources/source-definition';
import { HTTP_ROUTES } from '../../lambdas/handlers/http/http-routes';
import { ablyOptionsSchema } from '../../lambdas/providers/ably/ably-options';
import { ablySources, type AblySource } from './deployable-config';
import { HookhubFunction } from './hookhub-function';
import { tableIndexesFinding } from './nag-findings';
import type { OutboundDelivery } from './outbound-delivery';
import type { RealtimeApi } from './realtime-api';
import { throttleRoutes, type RouteThrottle } from './route-throttles';
import { ScheduledFunction } from './scheduled-function';

/** What storing an event once needs, as the inbound worker has it (InboundPipeline). */
export interface AblyStoreOnceProps {
  eventsTable: ITable;
  connectionsTable: ITable;
  /** JSON of the validated sources config (deployableSourcesJson). */
  sourcesJson: string;
  retentionDays: number;
}

export interface AblyIntegrationProps {
  /** The validated config: each `ably`-preset source gets a sync schedule and a rule registration. */
  config: HookhubConfig;
  /** The shared HTTP API the routes are added to; its stage URL is the webhook base the rules point at. */
  httpApi: HttpApi;
  /** The stage the routes are throttled on. */
  stage: HttpStage;
  /** The message log (Storage.ablyMessagesTable). */
  messagesTable: ITable;
  /** Cursors, leases, counters and runs (Storage.ablyStateTable). */
  stateTable: ITable;
  storeOnce: AblyStoreOnceProps;
  /** Stored events are published as outbound messages, as the worker publishes them. */
  publisher: Pick<OutboundDelivery, 'bindPublisher'>;
  /** Stored events are pushed to WebSocket subscribers, as the worker pushes them. */
  realtime: Pick<RealtimeApi, 'callbackUrl' | 'grantPush'>;
  /** The API checks the admin key. */
  adminKey: ISecret;
  /**
   * Throttle of each Ably route (a bucket each).
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  throttle?: RouteThrottle;
}

/** An operator's tool needs little, and each `POST /api/sync/ably` may run for up to the API's timeout. */
export const DEFAULT_ABLY_API_THROTTLE: RouteThrottle = { rateLimit: 10, burstLimit: 20 };
/** Just under HTTP API's 30 s integration timeout, so the handler, not API Gateway, answers a sync that runs long. */
export const ABLY_API_TIMEOUT_SECONDS = 29;
/** Lambda's longest timeout. */
const MAX_LAMBDA_TIMEOUT_SECONDS = 900;
/** The Control API calls of one registration (find the rule, create or update it), with room for retries. */
const RULE_HANDLER_TIMEOUT_SECONDS = 60;
/** The custom resource type CloudFormation shows for a source's rule. */
export const ABLY_RULE_RESOURCE_TYPE = 'Custom::AblyRule';

/** The sync function's timeout: the longest time limit of the Ably sources (the default one without any), plus grace. */
export function ablySyncTimeoutSeconds(sources: readonly AblySource[]): number {
  const timeLimits = sources.map(({ options }) => options.history.timeLimitSeconds);
  const longest = timeLimits.length > 0 ? Math.max(...timeLimits) : ablyOptionsSchema().parse({}).history.timeLimitSeconds;
  return Math.min(longest + ABLY_SYNC_GRACE_SECONDS, MAX_LAMBDA_TIMEOUT_SECONDS);
}

/** `rate(N minutes)`, singular for 1 as EventBridge requires. */
export function ablySyncRate(intervalMinutes: number): string {
  return `rate(${intervalMinutes} ${intervalMinutes === 1 ? 'minute' : 'minutes'})`;
}

export class AblyIntegration extends Construct {
  /** Serves the Ably routes; its logical id is `AblyIntegrationApiFunction…`. */
  public readonly apiFunction: HookhubFunction;
  /** The history sync the schedules invoke with `{"source": "<id>"}`; also for tools that run a sync. */
  public readonly syncFunction: HookhubFunction;
  public readonly routes: HttpRoute[];
  /** Per Ably source whose `history.intervalMinutes` is above 0. */
  public readonly schedules: ScheduledFunction[];
  /** The rule registration's onEvent handler; absent without Ably sources. */
  public readonly ruleHandler?: HookhubFunction;
  /** One per Ably source. */
  public readonly rules: CustomResource[];
  private readonly messagesTable: ITable;
  private readonly stateTable: ITable;
  private readonly importedSecrets = new Map<string, ISecret>();

  constructor(scope: Construct, id: string, props: AblyIntegrationProps) {
    super(scope, id);
    this.messagesTable = props.messagesTable;
    this.stateTable = props.stateTable;
    const sources = ablySources(props.config);

    this.syncFunction = new HookhubFunction(this, 'Sync', {
      handler: 'scheduledAblySync',
      timeout: Duration.seconds(ablySyncTimeoutSeconds(sources)),
    });
    this.apiFunction = new HookhubFunction(this, 'Api', {
      handler: 'httpAblyApi',
      timeout: Duration.seconds(ABLY_API_TIMEOUT_SECONDS),
      environment: { HOOKHUB_ADMIN_KEY_SECRET: props.adminKey.secretArn },
    });
    // The API runs a sync on demand in its own invocation: it needs all the sync needs.
    for (const syncer of [this.syncFunction, this.apiFunction]) this.bindSync(syncer, sources, props);
    // The log's listings: by channel and by day on the GSIs, by id on the table.
    props.messagesTable.grant(this.apiFunction.function, 'dynamodb:Query');
    props.adminKey.grantRead(this.apiFunction.function);
    Validations.of(this.apiFunction).acknowledge({ id: tableIndexesFinding(props.messagesTable), reason: 'Message log listings query the byChannel and byDay GSIs.' });

    const integration = new HttpLambdaIntegration('AblyApiIntegration', this.apiFunction.function);
    const ablyRoutes = HTTP_ROUTES.filter((route) => route.functionName === 'http-ably-api');
    this.routes = ablyRoutes.flatMap((route) => props.httpApi.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration }));
    throttleRoutes(props.stage, this.routes, props.throttle ?? DEFAULT_ABLY_API_THROTTLE);

    this.schedules = sources
      .filter(({ options }) => options.history.intervalMinutes > 0)
      .map(
        ({ source, options }) =>
          new ScheduledFunction(this, `Schedule-${source.id}`, {
            schedule: Schedule.expression(ablySyncRate(options.history.intervalMinutes)),
            function: this.syncFunction.function,
            input: { source: source.id },
            description: `hookhub: Ably history sync of source ${source.id}`,
          }),
      );

    if (sources.length === 0) {
      this.rules = [];
      return;
    }
    const ruleHandler = new HookhubFunction(this, 'RuleHandler', {
      handler: 'customResourceAblyRule',
      timeout: Duration.seconds(RULE_HANDLER_TIMEOUT_SECONDS),
    });
    this.ruleHandler = ruleHandler;
    const provider = this.ruleProvider(ruleHandler);
    this.rules = sources.map(({ source, options }) => {
      const secretNames = ruleSecretNames(source.secret?.secretName, options);
      for (const secretName of Object.values(secretNames)) {
        if (secretName !== undefined) this.secretNamed(secretName).grantRead(ruleHandler.function);
      }
      const rule = new CustomResource(this, `Rule-${source.id}`, {
        serviceToken: provider.serviceToken,
        resourceType: ABLY_RULE_RESOURCE_TYPE,
        // A source dropped from the config (or the stack deleted) sends the handler a Delete; what that does to the
        // rule at Ably is the handler's decision, which RETAIN would take away from it.
        removalPolicy: RemovalPolicy.DESTROY,
        properties: withoutUndefined({
          SourceId: source.id,
          TargetUrl: `${props.stage.url}hooks/${source.id}`,
          ApiKeySecretName: secretNames.apiKey,
          ControlTokenSecretName: secretNames.controlToken,
          ChannelFilter: options.registration?.channelFilter ?? options.channelFilter,
          TokenHeaderName: options.singleModeToken?.header,
          TokenSecretName: secretNames.singleModeToken,
        }),
      });
      // Registered once the stage (and with it the ingest route) is deployed, so Ably's first batch finds the URL.
      rule.node.addDependency(props.stage);
      return rule;
    });
  }

  /**
   * Lets `target` run the Ably processing step after an event is stored: put each message into the log once (a
   * conditional put) and count it per channel (an update of the counter item).
   */
  bindProcessingStep(target: HookhubFunction): void {
    const fn = target.function;
    fn.addEnvironment('HOOKHUB_ABLY_MESSAGES_TABLE', this.messagesTable.tableName);
    fn.addEnvironment('HOOKHUB_ABLY_STATE_TABLE', this.stateTable.tableName);
    grantOnTableOnly(fn, this.messagesTable, 'dynamodb:PutItem');
    grantOnTableOnly(fn, this.stateTable, 'dynamodb:UpdateItem');
  }

  /** The sync's variables and grants: the worker's store-once path, the processing step, the sync state, the API keys. */
  private bindSync(target: HookhubFunction, sources: readonly AblySource[], props: AblyIntegrationProps): void {
    const fn = target.function;
    const { storeOnce } = props;
    // The worker's variables (loadWorkerConfig), and the API keys from Secrets Manager.
    fn.addEnvironment('HOOKHUB_SOURCES', storeOnce.sourcesJson);
    fn.addEnvironment('HOOKHUB_EVENTS_TABLE', storeOnce.eventsTable.tableName);
    fn.addEnvironment('HOOKHUB_CONNECTIONS_TABLE', storeOnce.connectionsTable.tableName);
    fn.addEnvironment('HOOKHUB_RETENTION_DAYS', String(storeOnce.retentionDays));
    fn.addEnvironment('HOOKHUB_SECRETS_BACKEND', 'secrets-manager');
    // The worker's store-once calls: the conditional record and failure updates and the duplicate path's read (on
    // the events table only: these calls touch no index), subscriber lookups and stale-connection removal.
    grantOnTableOnly(fn, storeOnce.eventsTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    storeOnce.connectionsTable.grant(fn, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    Validations.of(target).acknowledge({ id: tableIndexesFinding(storeOnce.connectionsTable), reason: "Subscriber lookups on the connections table's own GSI." });
    props.publisher.bindPublisher(target);
    fn.addEnvironment('HOOKHUB_WS_CALLBACK_URL', props.realtime.callbackUrl);
    props.realtime.grantPush(target);

    this.bindProcessingStep(target);
    // Sync state: a channel's lease and cursor (read, conditional updates, the first put), a source's cursors and
    // the runs (Query on the table: it has no index).
    this.stateTable.grant(fn, 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:Query');
    for (const { source } of sources) {
      // deployableSourcesJson refuses an Ably source without a secret name before this runs.
      if (source.secret?.secretName) this.secretNamed(source.secret.secretName).grantRead(fn);
    }
  }

  /**
   * The custom resource provider. Its framework function gets a role and a log group of its own (the default role
   * carries the AWSLambdaBasicExecutionRole managed policy and writes to any log group).
   */
  private ruleProvider(handler: HookhubFunction): Provider {
    const role = new Role(this, 'RuleProviderRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    const logGroup = new LogGroup(this, 'RuleProviderLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    logGroup.grantWrite(role);
    const provider = new Provider(this, 'RuleProvider', { onEventHandler: handler.function, frameworkOnEventRole: role, logGroup });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(handler.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: "grantInvoke adds the rule handler's versions and aliases (`:*`); the grant still names that one function.",
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        "The CDK picks the provider framework function's runtime (the latest Node.js its region facts know, nodejs24.x today) and offers no setting for it; when Lambda adds a newer one first, the CDK's next release moves. The function only relays CloudFormation's request to the rule handler.",
    });
    return provider;
  }

  /**
   * One import per secret name, shared by the functions that read it. Numbered, as names that differ only in
   * punctuation (`a/b`, `a-b`) would otherwise get one construct id; an import declares no resource.
   */
  private secretNamed(secretName: string): ISecret {
    let secret = this.importedSecrets.get(secretName);
    if (!secret) {
      secret = Secret.fromSecretNameV2(this, `Secret${this.importedSecrets.size}-${secretName.replace(/[^A-Za-z0-9]/g, '-')}`, secretName);
      this.importedSecrets.set(secretName, secret);
    }
    return secret;
  }
}

/** The secrets a source's rule registration reads: the API key, the Control API token, the single-mode token. */
function ruleSecretNames(apiKeySecretName: string | undefined, options: AblySource['options']) {
  return {
    apiKey: apiKeySecretName,
    controlToken: options.registration?.controlToken.secretName,
    singleModeToken: options.singleModeToken?.secret.secretName,
  };
}

/** CloudFormation properties without the optional ones that are not set. */
function withoutUndefined(properties: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(properties).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

