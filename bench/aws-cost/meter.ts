/**
 * Metering harness: runs distinct 1 KiB signed events through the real handlers of one source tree (`--root`,
 * default this checkout) with real SDK clients against the local stand-ins (dynalite, the local SQS endpoint, the
 * local WebSocket gateway with one subscriber), and records every AWS SDK command the handlers and the SQS
 * poller make by wrapping the SDK's `Client.prototype.send`. Around each DynamoDB write it reads the old and the
 * new item with an unmetered client, so dynamodb-units.ts can charge the table and every index by DynamoDB's
 * rules (dynalite counts neither). Prints one JSON MeterReport per scenario on the last line of stdout.
 *
 * Two passes per scenario: the first times the handlers (nothing extra inside them), the second captures items.
 * Usage: tsx bench/aws-cost/meter.ts [--root DIR] [--events 200] [--label NAME]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { Client } from '@smithy/core/client';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { LocalDynamoDb } from '../../lib/local/local-dynamodb';
import { SqsJsonServer } from '../../lib/local/sqs/sqs-json-server';
import { WebSocketGateway, type WebSocketRoutes } from '../../lib/local/websocket-gateway';
import { lambdaContext } from '../../lib/local/lambda-context';
import { sqsEventOf } from '../../lib/local/sqs-event-source';
import { localLambdaEnvironment } from '../../lib/local/lambda-environment';
import { DEFAULT_LOCAL_OUTBOUND, LOCAL_TABLES } from '../../lib/local/local-runtime';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { signStandardWebhook } from '../../lambdas/core/verification/standard-webhooks';
import { OUTBOUND_TABLE_DEFINITIONS, type TableDefinition } from '../../lambdas/adapters/dynamodb/table-definitions';
import { getReadUnits, itemSize, queryReadUnits, writeCost, type Item } from './dynamodb-units';
import type { DynamoDbUsage, FunctionUsage, MeterReport } from './cost-table';
import { PRICES } from './prices';

const SECRET = 'whsec_aG9va2h1Yi1sb2NhbC1kZXZlbG9wbWVudC1vbmx5';
const ADMIN_KEY = 'meter-admin-key-0123456789';
const TABLES = LOCAL_TABLES;
const BATCH_SIZE = 10;
const UNMETERED = Symbol('unmetered');

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const ROOT = resolve(args.get('root') ?? join(__dirname, '..', '..'));
const EVENTS = Number(args.get('events') ?? 200);
const LABEL = args.get('label') ?? 'current';

/** A 1 KiB JSON webhook shaped like a payment provider's: nested objects, ids, amounts, timestamps, a description. */
export function payload(sequence: number, bytes = 1024): string {
  const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;
  const created = 1_790_000_000 + sequence;
  const event = {
    id: id('evt'),
    object: 'event',
    type: 'payment_intent.succeeded',
    api_version: '2025-10-29',
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: id('req'), idempotency_key: randomBytes(16).toString('hex') },
    data: {
      object: {
        id: id('pi'),
        object: 'payment_intent',
        amount: 1000 + ((sequence * 7919) % 90_000),
        amount_received: 1000 + ((sequence * 7919) % 90_000),
        currency: 'eur',
        customer: id('cus'),
        payment_method: id('pm'),
        status: 'succeeded',
        created: created - 3,
        metadata: { order_id: `ord-${100_000 + sequence}`, channel: 'web' },
        latest_charge: id('ch'),
        receipt_email: `customer${sequence}@example.com`,
        description: '',
      },
    },
  };
  const base = JSON.stringify(event).length;
  const words = ['order', 'subscription', 'renewal', 'monthly', 'plan', 'invoice', 'customer', 'shipping', 'express', 'gift'];
  let description = '';
  for (let i = 0; description.length < bytes - base; i++) description += `${words[(sequence + i * 3) % words.length]} `;
  event.data.object.description = description.slice(0, bytes - base);
  return JSON.stringify(event);
}

function ingestEvent(sequence: number): APIGatewayProxyEventV2 {
  const body = payload(sequence);
  const webhookId = `msg_${randomBytes(12).toString('hex')}`;
  const timestamp = Math.floor(Date.now() / 1000);
  // The headers API Gateway hands the function for a typical provider request.
  const headers: Record<string, string> = {
    accept: '*/*; q=0.5, application/xml',
    'cache-control': 'no-cache',
    'content-length': String(Buffer.byteLength(body)),
    'content-type': 'application/json; charset=utf-8',
    host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(SECRET, webhookId, timestamp, body),
    'x-amzn-trace-id': `Root=1-${randomBytes(4).toString('hex')}-${randomBytes(12).toString('hex')}`,
    'x-forwarded-for': '54.187.174.169',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  };
  return {
    version: '2.0',
    routeKey: 'ANY /hooks/{source}',
    rawPath: '/hooks/demo',
    rawQueryString: '',
    headers,
    pathParameters: { source: 'demo' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: headers.host!,
      domainPrefix: 'abc123',
      http: { method: 'POST', path: '/hooks/demo', protocol: 'HTTP/1.1', sourceIp: '54.187.174.169', userAgent: headers['user-agent']! },
      requestId: randomBytes(8).toString('hex'),
      routeKey: 'ANY /hooks/{source}',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

// ---- recording every SDK command ---------------------------------------------------------------------------

interface Recorder {
  captureItems: boolean;
  sqs: Record<string, number>;
  emptyReceives: number;
  webSocketMessages: number;
  dynamodb: Record<string, DynamoDbUsage>;
  eventItemSizes: number[];
}

let recorder: Recorder | undefined;
let inspector: DynamoDBDocumentClient;
let tablesByName: Record<string, TableDefinition>;

const DOCUMENT_OPERATIONS: Record<string, string> = {
  Put: 'PutItem',
  Get: 'GetItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
};

function usage(table: string, operation: string): DynamoDbUsage {
  const key = `${table === TABLES.events ? 'events' : table === TABLES.connections ? 'connections' : table} ${operation}`;
  return (recorder!.dynamodb[key] ??= { calls: 0, writeUnits: 0, indexWriteUnits: {}, readUnits: 0 });
}

function keyOf(table: TableDefinition, item: Item): Item {
  const names = [table.partitionKey.name, ...(table.sortKey ? [table.sortKey.name] : [])];
  return Object.fromEntries(names.map((name) => [name, item[name]]));
}

async function readItem(tableName: string, key: Item): Promise<Item | undefined> {
  return (await inspector.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
}

function chunks(bytes: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(bytes / chunkBytes));
}

function chargeWrite(tableName: string, operation: string, before: Item | undefined, after: Item | undefined, conditionFailed: boolean) {
  const table = tablesByName[tableName]!;
  const cost = writeCost(table, before, after, { conditionFailed });
  const entry = usage(tableName, operation);
  entry.writeUnits += cost.tableUnits;
  for (const write of cost.indexes) entry.indexWriteUnits[write.index] = (entry.indexWriteUnits[write.index] ?? 0) + write.units;
  if (tableName === TABLES.events && after && !conditionFailed) recorder!.eventItemSizes.push(itemSize(after));
}

async function recordDynamoDb(operation: string, input: Record<string, unknown>, run: () => Promise<Record<string, unknown>>) {
  const rec = recorder!;
  const tableName = input.TableName as string | undefined;
  if (operation === 'PutItem' || operation === 'UpdateItem' || operation === 'DeleteItem') {
    const table = tablesByName[tableName!]!;
    const key = operation === 'PutItem' ? keyOf(table, input.Item as Item) : (input.Key as Item);
    usage(tableName!, operation).calls++;
    if (!rec.captureItems) return run();
    const before = await readItem(tableName!, key);
    try {
      const output = await run();
      chargeWrite(tableName!, operation, before, await readItem(tableName!, key), false);
      return output;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') chargeWrite(tableName!, operation, before, undefined, true);
      throw error;
    }
  }
  if (operation === 'BatchWriteItem') {
    const requests = Object.entries(input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>>);
    for (const [name] of requests) usage(name, operation).calls++;
    if (!rec.captureItems) return run();
    const keys = requests.flatMap(([name, writes]) => writes.map((write) => ({ name, key: write.PutRequest ? keyOf(tablesByName[name]!, write.PutRequest.Item) : write.DeleteRequest!.Key })));
    const befores = await Promise.all(keys.map(({ name, key }) => readItem(name, key)));
    const output = await run();
    const afters = await Promise.all(keys.map(({ name, key }) => readItem(name, key)));
    keys.forEach(({ name }, index) => chargeWrite(name, operation, befores[index], afters[index], false));
    return output;
  }
  const output = await run();
  if (operation === 'GetItem') {
    const entry = usage(tableName!, operation);
    entry.calls++;
    entry.readUnits += getReadUnits(output.Item as Item | undefined, input.ConsistentRead === true);
  } else if (operation === 'Query') {
    const entry = usage(tableName!, input.IndexName ? `Query ${String(input.IndexName)}` : 'Query');
    entry.calls++;
    entry.readUnits += queryReadUnits((output.Items as Item[] | undefined) ?? [], input.ConsistentRead === true && !input.IndexName);
  } else if (operation === 'BatchGetItem') {
    for (const [name, request] of Object.entries(input.RequestItems as Record<string, { Keys: Item[]; ConsistentRead?: boolean }>)) {
      const entry = usage(name, operation);
      entry.calls++;
      const found = ((output.Responses as Record<string, Item[]> | undefined)?.[name] ?? []);
      entry.readUnits += found.reduce((sum, item) => sum + getReadUnits(item, request.ConsistentRead === true), 0);
      entry.readUnits += (request.Keys.length - found.length) * getReadUnits(undefined, request.ConsistentRead === true);
    }
  } else {
    usage(tableName ?? '?', operation).calls++;
  }
  return output;
}

async function recordSqs(operation: string, input: Record<string, unknown>, run: () => Promise<Record<string, unknown>>) {
  const rec = recorder!;
  const output = await run();
  if (operation === 'ReceiveMessage') {
    const messages = (output.Messages as Array<{ Body?: string }> | undefined) ?? [];
    if (messages.length === 0) rec.emptyReceives++;
    else rec.sqs.ReceiveMessage = (rec.sqs.ReceiveMessage ?? 0) + chunks(messages.reduce((sum, message) => sum + Buffer.byteLength(message.Body ?? ''), 0), PRICES.sqsChunkBytes);
  } else {
    const bodies = operation === 'SendMessageBatch' ? (input.Entries as Array<{ MessageBody: string }>).map((entry) => entry.MessageBody) : [String(input.MessageBody ?? '')];
    rec.sqs[operation] = (rec.sqs[operation] ?? 0) + chunks(bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0), PRICES.sqsChunkBytes);
  }
  return output;
}

function installRecorder(): void {
  const original = Client.prototype.send as (this: Client<any, any, any, any>, command: any, ...rest: unknown[]) => Promise<any>;
  (Client.prototype as unknown as { send: unknown }).send = function send(this: Client<any, any, any, any> & { [UNMETERED]?: boolean }, command: any, ...rest: unknown[]) {
    const run = () => original.call(this, command, ...rest) as Promise<Record<string, unknown>>;
    if (!recorder || this[UNMETERED] || rest.some((arg) => typeof arg === 'function')) return run();
    const service = String((this.config as { serviceId?: string }).serviceId);
    const name = String(command.constructor.name).replace(/Command$/, '');
    const operation = DOCUMENT_OPERATIONS[name] ?? name;
    const input = command.input as Record<string, unknown>;
    if (service === 'DynamoDB') return recordDynamoDb(operation, input, run);
    if (service === 'SQS') return recordSqs(operation, input, run);
    if (service === 'ApiGatewayManagementApi' && operation === 'PostToConnection') {
      const data = input.Data as string | Uint8Array;
      recorder.webSocketMessages += chunks(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, PRICES.webSocketMessageBytes);
    }
    return run();
  };
}

// ---- the stack's memory sizes ------------------------------------------------------------------------------

async function memorySizes(): Promise<{ ingest: number; worker: number }> {
  const { App } = await import('aws-cdk-lib');
  const { Template } = await import('aws-cdk-lib/assertions');
  const { HookhubStack } = (await import(join(ROOT, 'lib/hookhub-stack'))) as typeof import('../../lib/hookhub-stack');
  const { parseHookhubConfig } = (await import(join(ROOT, 'lambdas/core/sources/source-definition'))) as typeof import('../../lambdas/core/sources/source-definition');
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = parseHookhubConfig({ sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_DEMO_SECRET', secretName: 'hookhub/sources/demo' } }] });
  const stack = new HookhubStack(app, 'HookhubMeter', { config, env: { account: '123456789012', region: 'us-east-1' } });
  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  const memoryOf = (fragment: string) => {
    const id = Object.keys(functions).find((logicalId) => logicalId.includes(fragment));
    if (!id) throw new Error(`no function matching ${fragment} in the stack`);
    return Number(functions[id]!.Properties.MemorySize ?? 128);
  };
  return { ingest: memoryOf('IngestApiIngest'), worker: memoryOf('InboundPipelineWorker') };
}

// ---- the run -----------------------------------------------------------------------------------------------

type Handler = (event: unknown, context: unknown) => Promise<any>;

async function main(): Promise<void> {
  const memory = await memorySizes();
  const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-meter-'));
  const { EVENTS_TABLE, CONNECTIONS_TABLE } = (await import(join(ROOT, 'lambdas/adapters/dynamodb/table-definitions'))) as typeof import('../../lambdas/adapters/dynamodb/table-definitions');
  tablesByName = {
    [TABLES.events]: EVENTS_TABLE,
    [TABLES.connections]: CONNECTIONS_TABLE,
    ...Object.fromEntries(OUTBOUND_TABLE_DEFINITIONS.map((definition) => [outboundTableName(definition), definition])),
  };
  const dynamodb = new LocalDynamoDb(join(dataDir, 'dynamodb'));
  await dynamodb.start();
  await dynamodb.ensureTables([
    { definition: EVENTS_TABLE, tableName: TABLES.events },
    { definition: CONNECTIONS_TABLE, tableName: TABLES.connections },
    // The inbound worker publishes each event for outbound endpoints: with none defined it reads the (empty) endpoints.
    ...OUTBOUND_TABLE_DEFINITIONS.map((definition) => ({ definition, tableName: outboundTableName(definition) })),
  ]);
  const sqs = new SqsJsonServer({ dataDir: join(dataDir, 'sqs'), fsync: false });
  await sqs.listen();
  const deadLetter = sqs.createQueue({ name: 'hookhub-inbound-dlq', visibilityTimeoutSeconds: 30, delaySeconds: 0 });
  const inbound = sqs.createQueue({ name: 'hookhub-inbound', visibilityTimeoutSeconds: 30, delaySeconds: 0, redrive: { deadLetterQueue: deadLetter.queue, maxReceiveCount: 5 } });
  const delivery = sqs.createQueue({ name: 'hookhub-delivery', visibilityTimeoutSeconds: 60, delaySeconds: 0 });
  const routes: Partial<WebSocketRoutes> = {};
  const websocket = new WebSocketGateway({
    connect: (event, context) => routes.connect!(event, context),
    disconnect: (event, context) => routes.disconnect!(event, context),
    default: (event, context) => routes.default!(event, context),
  });
  await websocket.listen(0);

  Object.assign(process.env, {
    ...localLambdaEnvironment(
      {
        dynamodbEndpoint: dynamodb.endpoint,
        sqsEndpoint: sqs.endpoint,
        tables: TABLES,
        inboundQueueUrl: inbound.url,
        deadLetterQueueUrl: deadLetter.url,
        deliveryQueueUrl: delivery.url,
        websocketCallbackUrl: websocket.callbackUrl,
      },
      {
        config: parseHookhubConfig({ sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_DEMO_SECRET' } }] }),
        adminKey: ADMIN_KEY,
        retentionDays: 30,
        logLevel: 'ERROR',
        outbound: DEFAULT_LOCAL_OUTBOUND,
      },
    ),
    HOOKHUB_DEMO_SECRET: SECRET,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const load = async (name: string) => ((await import(join(ROOT, 'lambdas/handlers', name))) as { handler: Handler }).handler;
  const ingest = await load('http-ingest');
  const worker = await load('sqs-process-inbound');
  routes.connect = (await load('ws-connect')) as WebSocketRoutes['connect'];
  routes.disconnect = (await load('ws-disconnect')) as WebSocketRoutes['disconnect'];
  routes.default = (await load('ws-default')) as WebSocketRoutes['default'];

  inspector = DynamoDBDocumentClient.from(dynamodb.client());
  (inspector as unknown as Record<symbol, boolean>)[UNMETERED] = true;
  installRecorder();
  const poller = new SQSClient({ endpoint: sqs.endpoint });

  const subscriber = new WebSocket(`${websocket.url}/?token=${ADMIN_KEY}&channels=demo`);
  await new Promise((resolveOpen, reject) => {
    subscriber.once('open', resolveOpen);
    subscriber.once('error', reject);
  });
  let pushed = 0;
  subscriber.on('message', () => pushed++);

  const invoke = async (handler: Handler, event: unknown, name: string, usageOf: FunctionUsage) => {
    const started = performance.now();
    const result = await handler(event, lambdaContext(name, 30_000));
    usageOf.billedMs += Math.ceil(performance.now() - started);
    usageOf.invocations++;
    return result;
  };

  /** The Lambda event source's part: receive up to 10, invoke the worker, delete what succeeded. */
  const drain = async (expected: number, lambda: MeterReport['lambda']) => {
    let done = 0;
    for (let empty = 0; done < expected && empty < 50; ) {
      const { Messages = [] } = await poller.send(new ReceiveMessageCommand({ QueueUrl: inbound.url, MaxNumberOfMessages: BATCH_SIZE, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }));
      if (Messages.length === 0) {
        empty++;
        await new Promise((resolveWait) => setTimeout(resolveWait, 20));
        continue;
      }
      const event = sqsEventOf(Messages, 'arn:aws:sqs:us-east-1:123456789012:hookhub-inbound', 'us-east-1');
      const response = (await invoke(worker, event, 'sqs-process-inbound', lambda.worker)) as { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
      const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
      if (failed.size > 0) throw new Error(`the worker failed ${failed.size} records`);
      await poller.send(new DeleteMessageBatchCommand({ QueueUrl: inbound.url, Entries: event.Records.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })) }));
      done += Messages.length;
    }
    if (done < expected) throw new Error(`only ${done} of ${expected} events were processed`);
  };

  /** batched: every event queued before the worker polls (full batches of 10); single: one event per poll. */
  const scenario = async (name: 'batched' | 'single', captureItems: boolean, sequenceStart: number): Promise<MeterReport> => {
    recorder = { captureItems, sqs: {}, emptyReceives: 0, webSocketMessages: 0, dynamodb: {}, eventItemSizes: [] };
    const lambda: MeterReport['lambda'] = { ingest: { memoryMb: memory.ingest, invocations: 0, billedMs: 0 }, worker: { memoryMb: memory.worker, invocations: 0, billedMs: 0 } };
    const pushedBefore = pushed;
    let httpRequests = 0;
    for (let i = 0; i < EVENTS; i++) {
      const result = (await invoke(ingest, ingestEvent(sequenceStart + i), 'http-ingest', lambda.ingest)) as { statusCode: number };
      if (result.statusCode !== 202) throw new Error(`ingest answered ${result.statusCode}`);
      httpRequests++;
      if (name === 'single') await drain(1, lambda);
    }
    if (name === 'batched') await drain(EVENTS, lambda);
    for (let waited = 0; pushed - pushedBefore < EVENTS && waited < 5_000; waited += 20) await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    if (pushed - pushedBefore !== EVENTS) throw new Error(`the subscriber got ${pushed - pushedBefore} of ${EVENTS} events`);
    const rec = recorder;
    recorder = undefined;
    const sizes = rec.eventItemSizes;
    return {
      label: LABEL,
      scenario: name,
      events: EVENTS,
      httpRequests,
      lambda,
      sqs: rec.sqs,
      emptyReceives: rec.emptyReceives,
      webSocketMessages: rec.webSocketMessages,
      dynamodb: rec.dynamodb,
      eventItemBytes: { mean: sizes.length ? Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length) : 0, max: sizes.length ? Math.max(...sizes) : 0 },
    };
  };

  const reports: MeterReport[] = [];
  let sequence = 0;
  for (const name of ['batched', 'single'] as const) {
    // Warm every code path first (module-level clients connect, JIT), as a warm Lambda would be.
    await scenario(name, false, (sequence += EVENTS));
    const timed = await scenario(name, false, (sequence += EVENTS));
    const counted = await scenario(name, true, (sequence += EVENTS));
    reports.push({ ...counted, lambda: timed.lambda });
  }

  await new Promise((resolveClose) => {
    subscriber.once('close', resolveClose);
    subscriber.close();
  });
  await new Promise((resolveWait) => setTimeout(resolveWait, 200)); // its $disconnect runs before the store stops
  poller.destroy();
  await websocket.close();
  await sqs.close();
  await dynamodb.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(reports)}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

function outboundTableName(definition: TableDefinition): string {
  const entry = Object.entries({
    Endpoints: TABLES.endpoints,
    Messages: TABLES.messages,
    Deliveries: TABLES.deliveries,
    Attempts: TABLES.attempts,
    IdempotencyKeys: TABLES.idempotencyKeys,
    Audit: TABLES.audit,
    EventTypes: TABLES.eventTypes,
  }).find(([logicalName]) => logicalName === definition.logicalName);
  if (!entry) throw new Error(`no local table name for ${definition.logicalName}`);
  return entry[1];
}
