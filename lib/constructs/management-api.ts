/**
 * The outbound management API on the shared HTTP API: endpoints, messages, attempts, the event type catalog and the
 * audit log (every route of lambdas/handlers/http/http-routes.ts whose functionName is `http-management-api`), one
 * function behind them, authorized in the handler (admin key). Each route has a throttle of its own, like the read
 * routes: an operator's tool needs little, and a flood of keyless requests cannot touch the ingest route's budget.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi, type HttpRoute, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HTTP_ROUTES } from '../../lambdas/handlers/http/http-routes';
import { HookhubFunction } from './hookhub-function';
import { tableIndexesFinding } from './nag-findings';
import { outboundEnvironment, type OutboundSettings, type OutboundTables } from './outbound-delivery';
import { throttleRoutes, type RouteThrottle } from './route-throttles';

export interface ManagementApiProps {
  httpApi: HttpApi;
  /** The stage the routes are throttled on. */
  stage: HttpStage;
  tables: OutboundTables;
  /** Idempotency keys of POST /api/messages. */
  idempotencyTable: ITable;
  auditTable: ITable;
  /** Operational events (endpoint created, updated, deleted) are pushed to WebSocket channel `ops`. */
  connectionsTable: ITable;
  /** Where published messages, retries and replays queue their delivery tasks. */
  deliveryQueue: IQueue;
  adminKey: ISecret;
  /** JSON of the declared event types (deployableEventTypesJson), for the catalog. */
  eventTypesJson: string;
  /** The same delivery settings as the worker: the test send delivers, and endpoint URLs are checked against them. */
  settings: OutboundSettings;
  /**
   * Throttle of each management route (a bucket each).
   * @default { rateLimit: 20, burstLimit: 40 }
   */
  throttle?: RouteThrottle;
}

export const DEFAULT_MANAGEMENT_API_THROTTLE: RouteThrottle = { rateLimit: 20, burstLimit: 40 };
/**
 * `POST /api/endpoints/{id}/test` waits for the receiver for up to the 15 s request timeout; the rest is room for the
 * records around it. Also HTTP API's largest integration timeout, which the Lambda integration uses by default.
 */
const MANAGEMENT_API_TIMEOUT_SECONDS = 30;

export class ManagementApi extends Construct {
  public readonly function: HookhubFunction;
  public readonly routes: HttpRoute[];

  constructor(scope: Construct, id: string, props: ManagementApiProps) {
    super(scope, id);
    this.function = new HookhubFunction(this, 'Handler', {
      handler: 'httpManagementApi',
      timeout: Duration.seconds(MANAGEMENT_API_TIMEOUT_SECONDS),
      environment: {
        ...outboundEnvironment(props.tables, props.deliveryQueue, props.connectionsTable, props.settings),
        HOOKHUB_IDEMPOTENCY_TABLE: props.idempotencyTable.tableName,
        HOOKHUB_AUDIT_TABLE: props.auditTable.tableName,
        HOOKHUB_ADMIN_KEY_SECRET: props.adminKey.secretArn,
        HOOKHUB_EVENT_TYPES: props.eventTypesJson,
      },
    });

    // What the routes do. Endpoints: create, read, list (Scan: they are few), update, delete. Messages: publish,
    // read one, read a page's messages. Deliveries and attempts: list an endpoint's (Query), retry-failed and retry
    // by attempt id (the sparse GSIs), record the deliveries and attempts that retries, replays and test sends make,
    // and the hourly stats. Idempotency: claim a key, then mark it done. Audit: append, list a day. Event types: list
    // the seen ones, note a published type.
    const fn = this.function.function;
    const { tables } = props;
    tables.endpoints.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan');
    tables.messages.grant(fn, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
    for (const table of [tables.deliveries, tables.attempts]) {
      table.grant(fn, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem');
    }
    props.idempotencyTable.grant(fn, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    props.auditTable.grant(fn, 'dynamodb:PutItem', 'dynamodb:Query');
    tables.eventTypes.grant(fn, 'dynamodb:Scan', 'dynamodb:UpdateItem');
    props.deliveryQueue.grant(fn, 'sqs:SendMessage');
    props.connectionsTable.grant(fn, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    props.adminKey.grantRead(fn);
    for (const [table, reason] of [
      [tables.deliveries, 'retry-failed reads the sparse byEndpointRetryable GSI.'],
      [tables.attempts, 'Retrying an attempt finds it by id on the sparse byAttemptId GSI.'],
      [props.connectionsTable, "Subscriber lookups for the ops channel on the connections table's own GSI."],
    ] as const) {
      Validations.of(this.function).acknowledge({ id: tableIndexesFinding(table), reason });
    }

    const integration = new HttpLambdaIntegration('ManagementApiIntegration', fn);
    const managementRoutes = HTTP_ROUTES.filter((route) => route.functionName === 'http-management-api');
    this.routes = managementRoutes.flatMap((route) => props.httpApi.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration }));
    throttleRoutes(props.stage, this.routes, props.throttle ?? DEFAULT_MANAGEMENT_API_THROTTLE);
  }
}
