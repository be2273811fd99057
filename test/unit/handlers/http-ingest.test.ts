import '../../fixtures/handler-environment';
import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildHandler, handler } from '../../../lambdas/handlers/http-ingest';
import { parseHookhubConfig } from '../../../lambdas/core/sources/source-definition';
import type { QueuedEvent } from '../../../lambdas/core/events/inbound-event';
import { SqsInboundQueue } from '../../../lambdas/adapters/sqs/sqs-inbound-queue';
import { decodeQueuedEvent } from '../../../lambdas/core/events/queued-event-codec';
import { queuedEvent } from '../../fixtures/events';
import { eventIdFor } from '../../../lambdas/core/events/event-id';
import { DEMO_SECRET, standardWebhookHeaders } from '../../fixtures/sources';
import { context, httpEvent } from '../../fixtures/api-gateway-events';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

type Result = { statusCode: number; headers: Record<string, string>; body: string };
const invoke = async (event: ReturnType<typeof httpEvent>) => (await handler(event, context)) as Result;

describe('http-ingest handler', () => {
  const body = '{"type":"order.paid","total":12}';

  it('queues a verified event and answers 202 with its id', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] });
    const response = await invoke(httpEvent({ headers: standardWebhookHeaders(DEMO_SECRET, 'msg_42', body), body }));

    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ accepted: 1, ignored: 0, ids: [eventIdFor('demo', 'msg_42')] });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    const sent = sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input;
    expect(sent.QueueUrl).toBe(process.env.HOOKHUB_INBOUND_QUEUE_URL);
    expect(JSON.parse(sent.Entries![0]!.MessageBody!)).toMatchObject({ id: eventIdFor('demo', 'msg_42'), source: 'demo', body, requestId: 'request-1' });
  });

  it('verifies the decoded bytes of a base64-encoded body', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] });
    const response = await invoke(
      httpEvent({ headers: standardWebhookHeaders(DEMO_SECRET, 'msg_b64', body), body: Buffer.from(body).toString('base64'), isBase64Encoded: true }),
    );
    expect(response.statusCode).toBe(202);
  });

  it.each([
    ['an unknown source', { pathParameters: { source: 'nope' } }, 404, 'unknown_source'],
    ['a bad signature', { headers: { ...standardWebhookHeaders(DEMO_SECRET, 'm', body), 'webhook-signature': 'v1,AAAA' } }, 401, 'invalid_signature'],
    ['a GET', { method: 'GET' }, 405, 'method_not_allowed'],
  ])('answers %s with a JSON error and queues nothing', async (_case, overrides, status, code) => {
    const response = await invoke(httpEvent({ headers: standardWebhookHeaders(DEMO_SECRET, 'm', body), body, ...overrides }));
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toMatchObject({ error: code });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('queues a body within the limit however much escaping would grow it, and quotes the size the client sent when refusing', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] });
    const limit = 240 * 1024; // handler-environment sets no HOOKHUB_MAX_BODY_BYTES: the default applies
    // The case: a body of `""` strings that grew to 341,771 bytes once escaped into the message.
    const quotes = `[${'"",'.repeat((limit - 5) / 3)}""]`.padEnd(limit, ' ');
    expect(Buffer.byteLength(quotes)).toBe(limit);
    const accepted = await invoke(httpEvent({ headers: standardWebhookHeaders(DEMO_SECRET, 'msg_big', quotes), body: quotes }));
    expect(accepted.statusCode).toBe(202);
    const message = sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries![0]!.MessageBody!;
    expect(decodeQueuedEvent(message).body).toBe(quotes);

    const over = `${quotes} `;
    const refused = await invoke(httpEvent({ headers: standardWebhookHeaders(DEMO_SECRET, 'msg_over', over), body: over }));
    expect(refused.statusCode).toBe(413);
    expect(JSON.parse(refused.body)).toEqual({ error: 'payload_too_large', message: `payload is ${limit + 1} bytes; the limit is ${limit} bytes` });
  });

  it('answers 405 with an Allow header', async () => {
    const response = await invoke(httpEvent({ method: 'PUT', body }));
    expect(response.headers.allow).toBe('POST');
  });

  it('answers 500 without internals when SQS refuses, so the provider retries', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false, Message: 'boom' }] });
    const response = await invoke(httpEvent({ headers: standardWebhookHeaders(DEMO_SECRET, 'msg_x', body), body }));
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ error: 'internal_error', message: expect.any(String), requestId: 'request-1' });
    expect(response.body).not.toContain('boom');
  });
});

describe('http-ingest handler with a provider preset', () => {
  const ABLY_KEY = 'appAbc.keyOne:keySecretValue';
  const queued: QueuedEvent[][] = [];
  const logger = new Logger({ serviceName: 'test-ingest' });
  const ablyHandler = buildHandler({
    sources: parseHookhubConfig({ sources: [{ id: 'ably', preset: 'ably', secret: { env: 'ABLY_TEST_KEY' } }] }),
    queue: { enqueue: async (events) => void queued.push([...events]) },
    secrets: { secretsFor: async (reference) => (reference.env === 'ABLY_TEST_KEY' ? [ABLY_KEY] : []) },
    maxBodyBytes: 240 * 1024,
    now: () => new Date('2026-12-01T10:00:00.000Z'),
    logger,
  });
  const invokeAbly = async (body: string, headers: Record<string, string> = {}) =>
    (await ablyHandler(
      httpEvent({
        pathParameters: { source: 'ably' },
        path: '/hooks/ably',
        headers: { 'content-type': 'application/json', 'x-ably-key': 'appAbc.keyOne', 'x-ably-signature': createHmac('sha256', 'keySecretValue').update(body).digest('base64'), ...headers },
        body,
      }),
      context,
    )) as Result;
  const item = (channelId: string, ids: string[], source = 'channel.message') => ({ source, data: { channelId, messages: ids.map((id) => ({ id, data: 'secret-payload' })) } });

  beforeEach(() => {
    queued.length = 0;
  });
  afterEach(() => jest.restoreAllMocks());

  it("lets the preset take the request: one event per message, ignored and rejected items in the answer, rejections logged without payload", async () => {
    const warn = jest.spyOn(logger, 'warn');
    const body = JSON.stringify({ items: [item('c', ['m-1', 'm-2']), item('c', ['m-3'], 'channel.annotation'), { source: 'channel.message', data: { channelId: 'c', messages: 'secret-payload' } }] });
    const response = await invokeAbly(body);

    expect(response.statusCode).toBe(202);
    const rejected = [{ index: 2, error: 'data.messages must be an array' }];
    expect(JSON.parse(response.body)).toEqual({ accepted: 2, ignored: 1, ids: [eventIdFor('ably', 'm-1'), eventIdFor('ably', 'm-2')], rejected });
    expect(queued).toHaveLength(1);
    expect(queued[0]!.map((event) => event.providerEventId)).toEqual(['m-1', 'm-2']);
    expect(warn).toHaveBeenCalledWith('items rejected', { source: 'ably', rejected });
    expect(JSON.stringify(warn.mock.calls)).not.toContain('secret-payload');
  });

  it('leaves rejected out of the answer when nothing was rejected', async () => {
    const response = await invokeAbly(JSON.stringify({ items: [item('c', ['m-1'])] }));
    expect(JSON.parse(response.body)).toEqual({ accepted: 1, ignored: 0, ids: [eventIdFor('ably', 'm-1')] });
  });

  it("answers the preset's refusal as a JSON error and queues nothing", async () => {
    const response = await invokeAbly(JSON.stringify({ items: [item('c', ['m-1'])] }), { 'x-ably-signature': createHmac('sha256', 'wrong').update('x').digest('base64') });
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toEqual({ error: 'invalid_signature', message: 'x-ably-signature does not match the body' });
    expect(queued).toHaveLength(0);
  });
});

describe('SqsInboundQueue', () => {
  it('cuts batches at 10 entries and at the 1 MiB request limit', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const queue = new SqsInboundQueue(new SQSClient({}), 'https://sqs.example/q');
    const small = Array.from({ length: 12 }, (_, index) => queuedEvent(`small-${index}`));
    const large = Array.from({ length: 3 }, (_, index) => queuedEvent(`large-${index}`, { blob: 'x'.repeat(400 * 1024) }));
    await queue.enqueue([...small, ...large]);
    const sizes = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries!.length);
    expect(sizes).toEqual([10, 4, 1]); // 2 small + 2 large fit under 1 MiB; the third large one does not
  });

  it('sends up to 8 batches at once, and all of them', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    sqs.on(SendMessageBatchCommand).callsFake(async () => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { Successful: [], Failed: [] };
    });
    const queue = new SqsInboundQueue(new SQSClient({}), 'https://sqs.example/q');
    await queue.enqueue(Array.from({ length: 1000 }, (_, index) => queuedEvent(`m-${index}`)));
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 100);
    expect(mostInFlight).toBe(8);
    const sentIds = sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries!.map((entry) => Number(entry.Id)));
    expect(sentIds.sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, index) => index));
  });

  it('rejects when any batch is refused, starts no batch after that, and waits for those in flight', async () => {
    let inFlight = 0;
    let calls = 0;
    sqs.on(SendMessageBatchCommand).callsFake(async () => {
      if (calls++ === 0) return { Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false, Message: 'boom' }] };
      inFlight++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      inFlight--;
      return { Successful: [], Failed: [] };
    });
    const queue = new SqsInboundQueue(new SQSClient({}), 'https://sqs.example/q');
    await expect(queue.enqueue(Array.from({ length: 200 }, (_, index) => queuedEvent(`m-${index}`)))).rejects.toThrow('SQS did not accept 1 of 10 events (InternalError: boom)');
    expect(inFlight).toBe(0);
    expect(calls).toBe(8);
  });
});
