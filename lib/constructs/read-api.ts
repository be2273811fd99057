/**
 * Read API routes on the shared HTTP API: events list and detail, health (from the route table in
 * lambdas/handlers/http/http-routes.ts), and the API's `$default` route. Authorized in the handler (admin key).
 * Each route has a low throttle of its own: an operator's tool needs little, and a flood of keyless requests (each
 * one invokes the handler to be refused) stays cheap and cannot touch the ingest route's budget.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, HttpRoute, HttpRouteKey, type HttpApi, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { HookhubFunction } from './hookhub-function';
import { tableIndexesFinding } from './nag-findings';
import { throttleRoutes, type RouteThrottle } from './route-throttles';
import { HTTP_ROUTES } from '../../lambdas/handlers/http/http-routes';

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
   * Throttle of each read route (`GET /api/events`, `GET /api/events/{id}`, `GET /health`, `$default`: a bucket each).
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  throttle?: RouteThrottle;
}

export const DEFAULT_READ_API_THROTTLE: RouteThrottle = { rateLimit: 10, burstLimit: 20 };

export class ReadApi extends Construct {
  public readonly function: HookhubFunction;
  public readonly routes: HttpRoute[];
  /** `$default`: every request no other route matches, answered 404 or 405 by the read API handler. */
  public readonly defaultRoute: HttpRoute;

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
    const readRoutes = HTTP_ROUTES.filter((route) => route.functionName === 'http-read-api');
    this.routes = readRoutes.flatMap((route) => props.httpApi.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration }));
    // Without `$default`, API Gateway answers an unmatched request itself with `{"message":"Not Found"}`; this route
    // lets the handler answer 404/405 in hookhub's error shape. Throttled like the read routes: a scanner's
    // requests each cost an invocation, at most this many per second.
    this.defaultRoute = new HttpRoute(this, 'DefaultRoute', { httpApi: props.httpApi, routeKey: HttpRouteKey.DEFAULT, integration });
    Validations.of(this.defaultRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: '$default only answers 404 or 405 for a request no route matched; it reads and returns no data.',
    });
    throttleRoutes(props.stage, [...this.routes, this.defaultRoute], props.throttle ?? DEFAULT_READ_API_THROTTLE);
  }
}
