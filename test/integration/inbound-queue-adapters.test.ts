/**
 * The two InboundQueue adapters the ingest function runs with: SqsInboundQueue (AWS) against the local SQS endpoint,
 * and LocalInboundQueue (the local runtime's, in process) against the same durable queue. Each case runs against
 * both, so they cannot drift: the same messages land in the queue, the same refusals give the same errors.
 */
import fs, { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { SqsInboundQueue } from '../../lambdas/adapters/sqs/sqs-inbound-queue';
import { decodeQueuedEvent, encodeQueuedEvent } from '../../lambdas/core/events/queued-event-codec';
import type { QueuedEvent } from '../../lambdas/core/events/inbound-event';
import type { InboundQueue } from '../../lambdas/core/ports';
import { LocalInboundQueue } from '../../lib/local/sqs/local-inbound-queue';
import { LocalQueue, MAX_MESSAGE_BYTES } from '../../lib/local/sqs/local-queue';
import { INVALID_CONTENTS, messageRefusal } from '../../lib/local/sqs/message-rules';
import { queuedEvent } from '../fixtures/events';
import { useLocalSqsQueue } from '../fixtures/local-sqs-queue';

// The codec escapes every character SQS refuses, so a refused message cannot be made from a real event. One event
// whose body starts with this marker is passed through raw, to see what each adapter does with a refusal.
const RAW = 'raw-for-test:';
jest.mock('../../lambdas/core/events/queued-event-codec', () => {
  const actual = jest.requireActual<typeof import('../../lambdas/core/events/queued-event-codec')>('../../lambdas/core/events/queued-event-codec');
  return { ...actual, encodeQueuedEvent: (event: QueuedEvent) => (event.body.startsWith(RAW) ? event.body.slice(RAW.length) : actual.encodeQueuedEvent(event)) };
});

const sqs = useLocalSqsQueue('inbound');

/** Everything in the queue, as the worker would decode it. */
const drain = (): string[] => sqs.drainBodies();

const events = (count: number, payload: (index: number) => object = (index) => ({ index })) =>
  Array.from({ length: count }, (_, index) => queuedEvent(`msg_${index}`, payload(index)));

const adapters: Array<[string, () => InboundQueue]> = [
  ['SqsInboundQueue over the local SQS endpoint', () => new SqsInboundQueue(sqs.client, sqs.queueUrl)],
  ['LocalInboundQueue in process', () => new LocalInboundQueue(sqs.queue)],
];

describe.each(adapters)('%s', (_name, adapter) => {
  it('queues every event as its encoded message, however many batches that takes', async () => {
    const sent = events(23);
    await adapter().enqueue(sent);
    const bodies = drain();
    expect(bodies.sort()).toEqual(sent.map(encodeQueuedEvent).sort());
    expect(bodies.map(decodeQueuedEvent).map((event) => event.id).sort()).toEqual(sent.map((event) => event.id).sort());
  });

  it('carries worst-case bodies at the size limit unchanged: characters SQS refuses, quotes, non-UTF-8 bytes', async () => {
    // Bodies the codec must escape or base64, each as large as the ingest limit allows.
    const limit = 245_760;
    const sent = [
      { ...queuedEvent('msg_controls'), body: '\u0001\uffff"\\'.repeat(limit / 8), payloadFormat: 'text' as const },
      { ...queuedEvent('msg_base64'), body: Buffer.alloc((limit / 3) * 3, 0xff).toString('base64'), payloadFormat: 'base64' as const },
    ];
    await adapter().enqueue(sent);
    const fields = (event: QueuedEvent) => [event.id, event.payloadFormat, event.body];
    expect(drain().map(decodeQueuedEvent).map(fields).sort()).toEqual(sent.map(fields).sort());
  });

  it('rejects an event over the message limit before queuing anything', async () => {
    const huge = { ...queuedEvent('msg_huge'), body: 'x'.repeat(MAX_MESSAGE_BYTES) };
    await expect(adapter().enqueue([queuedEvent('msg_ok'), huge])).rejects.toThrow(`event ${huge.id} encodes to`);
    await expect(adapter().enqueue([huge])).rejects.toThrow(`; the queue takes ${MAX_MESSAGE_BYTES}`);
    expect(drain()).toEqual([]);
  });

  it('rejects with the error SQS gives for a message with characters it refuses', async () => {
    const refused = { ...queuedEvent('msg_refused'), body: `${RAW}{"nul":"\u0000"}` };
    await expect(adapter().enqueue([refused])).rejects.toThrow(`SQS did not accept 1 of 1 events (InvalidMessageContents: ${INVALID_CONTENTS})`);
    expect(drain()).toEqual([]);
  });
});

describe('LocalInboundQueue', () => {
  it('has the journal written when enqueue resolves: a copy taken then (what kill -9 leaves) replays the events', async () => {
    const sent = events(3);
    await new LocalInboundQueue(sqs.queue).enqueue(sent);
    const crashDir = mkdtempSync(join(tmpdir(), 'hookhub-adapters-crash-'));
    try {
      for (const file of readdirSync(sqs.dataDir)) copyFileSync(join(sqs.dataDir, file), join(crashDir, file));
      const reopened = new LocalQueue({ name: 'inbound', visibilityTimeoutSeconds: 30, delaySeconds: 0 }, crashDir, { fsync: false });
      expect(reopened.receive(10).map((message) => message.Body).sort()).toEqual(sent.map(encodeQueuedEvent).sort());
      reopened.close();
    } finally {
      rmSync(crashDir, { recursive: true, force: true });
    }
  });

  it('queues all or nothing: with one refused event among good ones nothing is queued (SQS queues the others)', async () => {
    const refused = { ...queuedEvent('msg_refused'), body: `${RAW}\uffff` };
    await expect(new LocalInboundQueue(sqs.queue).enqueue([...events(2), refused])).rejects.toThrow('SQS did not accept 1 of 3 events (InvalidMessageContents');
    expect(drain()).toEqual([]);
  });

  it('rejects when the journal cannot be written (a full disk), and nothing is queued', async () => {
    jest.spyOn(fs, 'writeSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    await expect(new LocalInboundQueue(sqs.queue).enqueue(events(2))).rejects.toThrow(/could not append .*ENOSPC/);
    jest.restoreAllMocks();
    expect(sqs.queue.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});

describe('the refusals both adapters map', () => {
  it.each([
    ['a character SQS refuses', 'a\u0000b'],
    ['a body over the message limit', 'x'.repeat(MAX_MESSAGE_BYTES + 1)],
  ])('are the local SQS endpoint’s own answer: %s', async (_what, body) => {
    const refusal = messageRefusal(body)!;
    await expect(sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }))).rejects.toMatchObject({ name: refusal.code, message: refusal.message });
  });
});
