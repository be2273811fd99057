import '../../fixtures/handler-environment';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '../../../lambdas/handlers/http-ingest';
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
    expect(JSON.parse(response.body)).toEqual({ accepted: 1, ids: [eventIdFor('demo', 'msg_42')] });
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
});
