/**
 * The whole hookhub stack on one machine: the same handler modules the CDK stack deploys, wired the way AWS wires
 * them, with local stand-ins that speak the AWS wire protocols (dynalite for DynamoDB, a durable SQS endpoint, an
 * API Gateway HTTP and WebSocket gateway). Handlers find the stand-ins through the SDK's standard
 * AWS_ENDPOINT_URL_<SERVICE> variables, so they contain no local-only code. One adapter differs: ingest queues through
 * LocalInboundQueue, in process, into the same durable queue the SQS endpoint serves (journal written before the 202),
 * instead of an SDK call over loopback per request. The worker runs on its own thread (inbound-worker.ts) with the
 * real SDK clients, so draining the queue does not take turns with ingest on the HTTP thread.
 *
 * Handler modules read their configuration at import (as on a Lambda cold start), so one process hosts one runtime.
 */
import { join } from 'node:path';
import type { HookhubConfig } from '../../lambdas/core/sources/source-definition';
import {
  ATTEMPTS_TABLE,
  AUDIT_TABLE,
  CONNECTIONS_TABLE,
  DELIVERIES_TABLE,
  ENDPOINTS_TABLE,
  EVENT_TYPES_TABLE,
  EVENTS_TABLE,
  IDEMPOTENCY_TABLE,
  MESSAGES_TABLE,
  ABLY_MESSAGES_TABLE,
  ABLY_STATE_TABLE,
  type TableDefinition,
} from '../../lambdas/adapters/dynamodb/table-definitions';
import { DELIVERY_QUEUE, INBOUND_QUEUE } from '../../lambdas/adapters/sqs/queue-definitions';
import { LocalDynamoDb } from './local-dynamodb';
import { localLambdaEnvironment, type LocalOutboundSettings, type LocalTableNames } from './lambda-environment';
import { SqsJsonServer } from './sqs/sqs-json-server';
import { LocalInboundQueue } from './sqs/local-inbound-queue';
import { LocalDeliveryQueue } from './sqs/local-delivery-queue';
import { HttpApiGateway, type HttpLambda } from './http-api-gateway';
import { DEFAULT_ROUTE_FUNCTION, HTTP_ROUTES, type HttpFunctionName } from '../../lambdas/handlers/http/http-routes';
import { WebSocketGateway, type WebSocketRoutes } from './websocket-gateway';
import { QueueWorker } from './queue-worker';
import { LOCAL_ALLOWED_TARGETS } from './startup-checks';
import { PeriodicTask } from './periodic-task';
import { lambdaContext } from './lambda-context';
import { ABLY_SYNC_GRACE_SECONDS, type AblyOptions } from '../../lambdas/providers/ably/ably-options';

export interface LocalRuntimeOptions {
  config: HookhubConfig;
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  wsPort: number;
  adminKey: string;
  /** Shorter than AWS's 180 s so a failing event is retried within seconds locally. */
  visibilityTimeoutSeconds?: number;
  workerConcurrency?: number;
  /**
   * A module whose `eventProcessors` export adds processing steps by name (demos, tests, embedding applications).
   * A path, not functions: the worker runs on its own thread and imports it there.
   */
  processorsModule?: string;
  /**
   * Sync every acknowledged write to disk before answering: the queue journal (fdatasync) and the event store's
   * LevelDB (sync writes), so what got a 202 survives power loss, not just a crash of the process.
   */
  fsync?: boolean;
  ttlSweepIntervalMs?: number;
  logLevel?: string;
  retentionDays?: number;
  /** Outbound delivery settings; each has a default that suits development (see DEFAULT_LOCAL_OUTBOUND). */
  outbound?: Partial<LocalOutboundSettings>;
  /**
   * Parallel pollers of the delivery queue, like the worker's concurrent invocations on AWS. Each holds one batch
   * until its slowest try ends, and a slow endpoint holds at most a few (in-flight-tries.ts); more pollers than
   * this split the queue into smaller batches, and each batch costs the same three SDK calls. @default 24
   */
  deliveryConcurrency?: number;
}

/** Development defaults: as on AWS, except that loopback is reachable (the receivers a developer runs here). */
export const DEFAULT_LOCAL_OUTBOUND: LocalOutboundSettings = {
  retentionDays: 30,
  allowPrivateTargets: LOCAL_ALLOWED_TARGETS,
  httpsOnly: false,
  timeoutMs: 15_000,
  endpointCacheMs: 1_000,
};

export interface LocalRuntime {
  httpUrl: string;
  wsUrl: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  inboundQueueUrl: string;
  deadLetterQueueUrl: string;
  deliveryQueueUrl: string;
  deliveryDeadLetterQueueUrl: string;
  tables: LocalTableNames;
  stop(): Promise<void>;
}

export const LOCAL_TABLES: LocalTableNames = {
  events: 'hookhub-events',
  connections: 'hookhub-connections',
  endpoints: 'hookhub-endpoints',
  messages: 'hookhub-messages',
  deliveries: 'hookhub-deliveries',
  attempts: 'hookhub-attempts',
  idempotencyKeys: 'hookhub-idempotency-keys',
  audit: 'hookhub-audit',
  eventTypes: 'hookhub-event-types',
  ablyMessages: 'hookhub-ably-messages',
  ablyState: 'hookhub-ably-state',
};

/** Items of each table the TTL sweep looks at per tick (a minute): a pass over a million items takes about 8 hours. */
const TTL_SWEEP_ITEMS_PER_TABLE = 2_000;

/** Which shared definition each local table is made from. */
const TABLE_DEFINITION_OF: Record<keyof LocalTableNames, TableDefinition> = {
  events: EVENTS_TABLE,
  connections: CONNECTIONS_TABLE,
  endpoints: ENDPOINTS_TABLE,
  messages: MESSAGES_TABLE,
  deliveries: DELIVERIES_TABLE,
  attempts: ATTEMPTS_TABLE,
  idempotencyKeys: IDEMPOTENCY_TABLE,
  audit: AUDIT_TABLE,
  eventTypes: EVENT_TYPES_TABLE,
  ablyMessages: ABLY_MESSAGES_TABLE,
  ablyState: ABLY_STATE_TABLE,
};

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const tables = (Object.keys(LOCAL_TABLES) as (keyof LocalTableNames)[]).map((name) => ({ definition: TABLE_DEFINITION_OF[name], tableName: LOCAL_TABLES[name] }));
  const dynamodb = new LocalDynamoDb(join(options.dataDir, 'dynamodb'), { fsync: options.fsync ?? false });
  await dynamodb.start();
  await dynamodb.ensureTables(tables);

  const sqs = new SqsJsonServer({ dataDir: join(options.dataDir, 'sqs'), fsync: options.fsync ?? false });
  await sqs.listen();
  // As on AWS, each queue has its dead-letter queue; the delivery worker's batch can take the 15 s request timeout,
  // so its queue hides a batch well past it.
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 10;
  const queueWithDeadLetter = (name: string, visibility: number, maxReceiveCount: number) => {
    const deadLetter = sqs.createQueue({ name: `${name}-dlq`, visibilityTimeoutSeconds: 30, delaySeconds: 0 });
    const queue = sqs.createQueue({ name, visibilityTimeoutSeconds: visibility, delaySeconds: 0, redrive: { deadLetterQueue: deadLetter.queue, maxReceiveCount } });
    return { queue, deadLetter };
  };
  const { queue: inbound, deadLetter } = queueWithDeadLetter('hookhub-inbound', visibilityTimeoutSeconds, INBOUND_QUEUE.maxReceiveCount);
  const { queue: delivery, deadLetter: deliveryDeadLetter } = queueWithDeadLetter('hookhub-delivery', Math.max(visibilityTimeoutSeconds, 60), DELIVERY_QUEUE.maxReceiveCount);
  const outbound: LocalOutboundSettings = { ...DEFAULT_LOCAL_OUTBOUND, retentionDays: options.retentionDays ?? 30, ...options.outbound };

  // Bound after the handler modules load: they need the WebSocket callback URL in their environment first.
  const websocketRoutes: Partial<WebSocketRoutes> = {};
  const websocket = new WebSocketGateway({
    connect: (event, context) => websocketRoutes.connect!(event, context),
    disconnect: (event, context) => websocketRoutes.disconnect!(event, context),
    default: (event, context) => websocketRoutes.default!(event, context),
  });
  await websocket.listen(options.wsPort);

  Object.assign(
    process.env,
    localLambdaEnvironment(
      {
        dynamodbEndpoint: dynamodb.endpoint,
        sqsEndpoint: sqs.endpoint,
        tables: LOCAL_TABLES,
        inboundQueueUrl: inbound.url,
        deadLetterQueueUrl: deadLetter.url,
        deliveryQueueUrl: delivery.url,
        websocketCallbackUrl: websocket.callbackUrl,
      },
      { config: options.config, adminKey: options.adminKey, retentionDays: options.retentionDays ?? 30, logLevel: options.logLevel ?? 'WARN', outbound },
    ),
  );

  // The workers' threads get a copy of this environment, so they start after the variables above are set. Each plays
  // a Lambda SQS event source: the handler module, its queue and batch size, and its concurrent invocations.
  const queueWorker = (handler: string, queue: { name: string; url: string }, batchSize: number, concurrency: number) =>
    new QueueWorker({
      environment: { ...process.env },
      handler,
      batchSize,
      queueUrl: queue.url,
      queueArn: `arn:aws:sqs:local:000000000000:${queue.name}`,
      concurrency,
      processorsModule: options.processorsModule,
    });
  const worker = queueWorker('sqs-process-inbound', { name: 'hookhub-inbound', url: inbound.url }, INBOUND_QUEUE.batchSize, options.workerConcurrency ?? 2);
  const deliveryWorker = queueWorker('sqs-deliver', { name: 'hookhub-delivery', url: delivery.url }, DELIVERY_QUEUE.batchSize, options.deliveryConcurrency ?? 24);
  const [ingest, readApi, managementApi, ablyApi, ablySync, wsConnect, wsDisconnect, wsDefault] = await Promise.all([
    import('../../lambdas/handlers/http-ingest'),
    import('../../lambdas/handlers/http-read-api'),
    import('../../lambdas/handlers/http-management-api'),
    import('../../lambdas/handlers/http-ably-api'),
    import('../../lambdas/handlers/scheduled-ably-sync'),
    import('../../lambdas/handlers/ws-connect'),
    import('../../lambdas/handlers/ws-disconnect'),
    import('../../lambdas/handlers/ws-default'),
    worker.start(),
    deliveryWorker.start(),
  ]);
  websocketRoutes.connect = wsConnect.handler;
  websocketRoutes.disconnect = wsDisconnect.handler;
  websocketRoutes.default = wsDefault.handler;

  const httpLambdas: Record<HttpFunctionName, HttpLambda> = {
    // The ingest function with an in-process queue adapter over the same durable queue the SQS endpoint serves: the
    // same handler, verification and encoding, without an SDK call and a loopback round trip per request.
    'http-ingest': ingest.buildHandler(ingest.ingestDeps(new LocalInboundQueue(inbound.queue))) as unknown as HttpLambda,
    'http-read-api': readApi.handler as unknown as HttpLambda,
    // Publishing queues through the same in-process path into the durable delivery queue.
    'http-management-api': managementApi.buildHandler(managementApi.managementDeps(new LocalDeliveryQueue(delivery.queue))) as unknown as HttpLambda,
    'http-ably-api': ablyApi.handler as unknown as HttpLambda,
  };
  const http = new HttpApiGateway([
    ...HTTP_ROUTES.map((route) => ({ ...route, handler: httpLambdas[route.functionName] })),
    { method: 'ANY', path: '$default', functionName: DEFAULT_ROUTE_FUNCTION, handler: httpLambdas[DEFAULT_ROUTE_FUNCTION] },
  ]);
  await http.listen(options.port);

  // A slice of each table per tick (local-dynamodb.ts).
  const ttlSweep = new PeriodicTask(
    options.ttlSweepIntervalMs ?? 60_000,
    () => dynamodb.sweepExpired(tables, Math.floor(Date.now() / 1000), { maxScannedPerTable: TTL_SWEEP_ITEMS_PER_TABLE }),
    (error) => console.error('[ttl-sweep]', error),
  ).start();
  // The EventBridge schedules of the Ably history sync: the same handler, invoked with the same event.
  const ablySyncs = options.config.sources.flatMap((source) => {
    const intervalMinutes = source.preset === 'ably' ? (source.options as AblyOptions).history.intervalMinutes : 0;
    if (intervalMinutes === 0) return [];
    const timeoutMs = ((source.options as AblyOptions).history.timeLimitSeconds + ABLY_SYNC_GRACE_SECONDS) * 1000;
    const invoke = () => ablySync.handler({ source: source.id }, lambdaContext('hookhub-ably-sync', timeoutMs));
    return [new PeriodicTask(intervalMinutes * 60_000, invoke, (error) => console.error(`[ably-sync ${source.id}]`, error)).start()];
  });

  return {
    httpUrl: http.url,
    wsUrl: websocket.url,
    sqsEndpoint: sqs.endpoint,
    dynamodbEndpoint: dynamodb.endpoint,
    inboundQueueUrl: inbound.url,
    deadLetterQueueUrl: deadLetter.url,
    deliveryQueueUrl: delivery.url,
    deliveryDeadLetterQueueUrl: deliveryDeadLetter.url,
    tables: LOCAL_TABLES,
    async stop() {
      await Promise.all([ttlSweep.stop(), ...ablySyncs.map((sync) => sync.stop())]);
      await Promise.all([worker.stop(), deliveryWorker.stop()]);
      await http.close();
      await websocket.close();
      await sqs.close();
      await dynamodb.stop();
    },
  };
}

