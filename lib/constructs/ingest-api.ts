/**
 * The public HTTP API and its ingest route: `ANY /hooks/{source}` → ingest Lambda (ANY so a wrong method gets a
 * JSON 405 from hookhub rather than API Gateway's bare 404). Access logs go to CloudWatch; routes are throttled at
 * the stage so a flood is refused by API Gateway before it costs Lambda time.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { HookhubConfig } from '../../lambdas/core/sources/source-definition';
import { HookhubFunction } from './hookhub-function';

export interface IngestApiProps {
  config: HookhubConfig;
  sourcesJson: string;
  inboundQueue: IQueue;
  /** Requests per second across the API. @default 1000 */
  throttleRateLimit?: number;
  /** @default 2000 */
  throttleBurstLimit?: number;
}

export class IngestApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  public readonly ingest: HookhubFunction;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'HttpApi', { createDefaultStage: false, description: 'hookhub webhooks and read API' });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
      throttle: { rateLimit: props.throttleRateLimit ?? 1000, burstLimit: props.throttleBurstLimit ?? 2000 },
    });

    this.ingest = new HookhubFunction(this, 'Ingest', {
      handler: 'httpIngest',
      timeout: Duration.seconds(10),
      environment: {
        HOOKHUB_SOURCES: props.sourcesJson,
        HOOKHUB_INBOUND_QUEUE_URL: props.inboundQueue.queueUrl,
        HOOKHUB_SECRETS_BACKEND: 'secrets-manager',
      },
    });
    props.inboundQueue.grantSendMessages(this.ingest.function);
    const secretNames = new Set(props.config.sources.flatMap((source) => (source.secret?.secretName ? [source.secret.secretName] : [])));
    for (const secretName of secretNames) {
      Secret.fromSecretNameV2(this, `SourceSecret-${secretName.replace(/[^A-Za-z0-9]/g, '-')}`, secretName).grantRead(this.ingest.function);
    }

    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'Webhook providers cannot send IAM or JWT credentials: each /hooks route verifies the provider signature in the Lambda; /api and /health check the admin key in their handler.',
    });
    this.httpApi.addRoutes({
      path: '/hooks/{source}',
      methods: [HttpMethod.ANY],
      integration: new HttpLambdaIntegration('IngestIntegration', this.ingest.function),
    });
  }

  get url(): string {
    return this.stage.url;
  }
}
