/**
 * The public HTTP API and its ingest route: `ANY /hooks/{source}` → ingest Lambda (ANY so a wrong method gets a
 * JSON 405 from hookhub rather than API Gateway's bare 404). Access logs (JSON: source IP, route, status) go to
 * CloudWatch. A flood is refused by API Gateway (429) before it costs Lambda time: the ingest route has its own
 * throttle, within the stage default that caps every route, and the ingest function has concurrency reserved so
 * other functions cannot starve it (nor it them). See docs/decisions.md, "Abuse limits".
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { HookhubConfig } from '../../lambdas/core/sources/source-definition';
import { ablySources } from './deployable-config';
import { HookhubFunction } from './hookhub-function';
import { throttleRoutes, type RouteThrottle } from './route-throttles';

/**
 * One JSON object per request, with HTTP API context variables, so Logs Insights can group a flood by source IP
 * (`filter routeKey = "ANY /hooks/{source}" | stats count(*) by ip, status`).
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",' +
    '"routeKey":"$context.routeKey","path":"$context.path","status":$context.status,' +
    '"responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage"}',
);

export interface IngestApiProps {
  config: HookhubConfig;
  sourcesJson: string;
  inboundQueue: IQueue;
  /**
   * The stage's default route throttle: what any route without a throttle of its own gets, and the most any one
   * route may be given (refused at synth above it). API Gateway applies it per route, not shared between routes;
   * the account's Regional quota is what all routes of all APIs share.
   * @default { rateLimit: 1000, burstLimit: 2000 }
   */
  stageThrottle?: RouteThrottle;
  /**
   * Throttle of `ANY /hooks/{source}`, shared by all sources. Generous: webhooks are the product, and providers
   * retry a 429. It also bounds what a flood of unsigned requests can cost: at most this many ingest invocations
   * per second.
   * @default { rateLimit: 500, burstLimit: 1000 }
   */
  ingestThrottle?: RouteThrottle;
  /**
   * Concurrency reserved for the ingest function: it can always run this many at once whatever else runs in the
   * account, and never more. Lambda refuses the deployment when the account's quota cannot spare it (new accounts
   * may start at a quota of 10): pass `false` there.
   * @default 100 (at 500 requests/s that leaves 200 ms per request)
   */
  reservedConcurrency?: number | false;
}

export const DEFAULT_STAGE_THROTTLE: RouteThrottle = { rateLimit: 1000, burstLimit: 2000 };
export const DEFAULT_INGEST_THROTTLE: RouteThrottle = { rateLimit: 500, burstLimit: 1000 };
export const DEFAULT_INGEST_RESERVED_CONCURRENCY = 100;

export class IngestApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  public readonly ingest: HookhubFunction;
  public readonly ingestRoutes: HttpRoute[];

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'HttpApi', { createDefaultStage: false, description: 'hookhub webhooks and read API' });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
      throttle: props.stageThrottle ?? DEFAULT_STAGE_THROTTLE,
    });

    this.ingest = new HookhubFunction(this, 'Ingest', {
      handler: 'httpIngest',
      timeout: Duration.seconds(10),
      environment: {
        HOOKHUB_SOURCES: props.sourcesJson,
        HOOKHUB_INBOUND_QUEUE_URL: props.inboundQueue.queueUrl,
        HOOKHUB_SECRETS_BACKEND: 'secrets-manager',
      },
      reservedConcurrency: props.reservedConcurrency === false ? undefined : (props.reservedConcurrency ?? DEFAULT_INGEST_RESERVED_CONCURRENCY),
    });
    props.inboundQueue.grantSendMessages(this.ingest.function);
    // Each source's own secret, and an Ably source's single-mode token (compared with a header on unsigned requests).
    const secretNames = new Set([
      ...props.config.sources.flatMap((source) => (source.secret?.secretName ? [source.secret.secretName] : [])),
      ...ablySources(props.config).flatMap(({ options }) => (options.singleModeToken?.secret.secretName ? [options.singleModeToken.secret.secretName] : [])),
    ]);
    for (const secretName of secretNames) {
      Secret.fromSecretNameV2(this, `SourceSecret-${secretName.replace(/[^A-Za-z0-9]/g, '-')}`, secretName).grantRead(this.ingest.function);
    }

    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'Webhook providers cannot send IAM or JWT credentials: each /hooks route verifies the provider signature in the Lambda; /api and /health check the admin key in their handler.',
    });
    this.ingestRoutes = this.httpApi.addRoutes({
      path: '/hooks/{source}',
      methods: [HttpMethod.ANY],
      integration: new HttpLambdaIntegration('IngestIntegration', this.ingest.function),
    });
    throttleRoutes(this.stage, this.ingestRoutes, props.ingestThrottle ?? DEFAULT_INGEST_THROTTLE);
  }

  get url(): string {
    return this.stage.url;
  }
}
