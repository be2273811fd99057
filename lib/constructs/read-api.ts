/**
 * Read API routes on the shared HTTP API: events list and detail, health. Authorized in the handler (admin key).
 * Each route has a low throttle of its own: an operator's tool needs little, and a flood of keyless requests (each
 * one invokes the handler to be refused) stays cheap and cannot touch the ingest route's budget.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi, type HttpRoute, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { HookhubFunction } from './hookhub-function';
import { tableIndexesFinding } from './nag-findings';
import { throttleRoutes, type RouteThrottle } from './route-throttles';

export interface ReadApiProps {
  httpApi: HttpApi;
  /** The stage the routes are throttled on. */
  stage: HttpStage;
  eventsTable: ITable;
  inboundQueue: IQueue;
  deadLetterQueue: IQueue;
  adminKey: ISecret;
  retentionDays: number;
  /**
   * Throttle of each read route (`GET /api/events`, `GET /api/events/{id}`, `GET /health`: a bucket each).
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  throttle?: RouteThrottle;
}

export const DEFAULT_READ_API_THROTTLE: RouteThrottle = { rateLimit: 10, burstLimit: 20 };

export class ReadApi extends Construct {
  public readonly function: HookhubFunction;
  public readonly routes: HttpRoute[];

  constructor(scope: Construct, id: string, props: ReadApiProps) {
    super(scope, id);
    this.function = new HookhubFunction(this, 'Handler', {
      handler: 'httpReadApi',
      timeout: Duration.seconds(10),
      environment: {
        HOOKHUB_EVENTS_TABLE: props.eventsTable.tableName,
        HOOKHUB_INBOUND_QUEUE_URL: props.inboundQueue.queueUrl,
        HOOKHUB_DEAD_LETTER_QUEUE_URL: props.deadLetterQueue.queueUrl,
        HOOKHUB_ADMIN_KEY_SECRET: props.adminKey.secretArn,
        HOOKHUB_RETENTION_DAYS: String(props.retentionDays),
      },
    });
    props.eventsTable.grant(this.function.function, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem');
    Validations.of(this.function).acknowledge({ id: tableIndexesFinding(props.eventsTable), reason: 'List queries on the events GSIs.' });
    for (const queue of [props.inboundQueue, props.deadLetterQueue]) {
      queue.grant(this.function.function, 'sqs:GetQueueAttributes');
    }
    props.adminKey.grantRead(this.function.function);

    const integration = new HttpLambdaIntegration('ReadApiIntegration', this.function.function);
    this.routes = ['/api/events', '/api/events/{id}', '/health'].flatMap((path) =>
      props.httpApi.addRoutes({ path, methods: [HttpMethod.GET], integration }),
    );
    throttleRoutes(props.stage, this.routes, props.throttle ?? DEFAULT_READ_API_THROTTLE);
  }
}
