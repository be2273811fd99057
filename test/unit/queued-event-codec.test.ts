/**
 * The queued message: never a character SQS refuses, bounded growth for any body, and the event read back exactly.
 * The refusal itself is checked against the local SQS stand-in through the real SDK client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsJsonServer } from '../../lib/local/sqs/sqs-json-server';
import { decodeQueuedEvent, encodeQueuedEvent, worstCaseMessageBytes } from '../../lambdas/core/events/queued-event-codec';
import { CHARACTER_SQS_REFUSES } from '../../lambdas/core/events/queue-message-characters';
import { INBOUND_QUEUE } from '../../lambdas/adapters/sqs/queue-definitions';
import { MAX_BODY_BYTES_SETTING } from '../../lambdas/config';
import type { QueuedEvent } from '../../lambdas/core/events/inbound-event';
import { queuedEvent } from '../fixtures/events';

/** Written out from the SendMessage reference, independently of the codec's own pattern. */
/** Lone surrogates apart from each other: side by side, \ud800\udfff would be one (allowed) code point. */
const REFUSED_BY_SQS = ['\ud800', '\u0000', '\u0001', '\u0008', '\u000b', '\u001f', '\udfff', '\ufffe', '\uffff'];
const ACCEPTED_BY_SQS = ['\t', '\n', '\r', ' ', '\ud7ff', '\ue000', '\ufffd', '\u{10000}', '\u{10ffff}'];

const textEvent = (body: string, overrides: Partial<QueuedEvent> = {}): QueuedEvent => ({ ...queuedEvent('msg_text'), body, payloadFormat: 'text', ...overrides });

describe('queued-event codec', () => {
  it('the shared pattern matches exactly what SQS refuses', () => {
    expect(REFUSED_BY_SQS.filter((character) => !CHARACTER_SQS_REFUSES.test(`a${character}b`))).toEqual([]);
    expect(ACCEPTED_BY_SQS.filter((character) => CHARACTER_SQS_REFUSES.test(`a${character}b`))).toEqual([]);
  });

  it('escapes every refused character, in the body and in values read from it, and reads the event back exactly', () => {
    const hostile = REFUSED_BY_SQS.join('') + ACCEPTED_BY_SQS.join('');
    const event = textEvent(`text ${hostile}`, { type: `type ${hostile}`, providerEventId: `id ${hostile}` });
    const message = encodeQueuedEvent(event);
    expect(CHARACTER_SQS_REFUSES.test(message)).toBe(false);
    expect(decodeQueuedEvent(message)).toEqual(event);
    const json: QueuedEvent = { ...queuedEvent('msg_json'), body: JSON.stringify({ s: '\uffff\ufffe\u0001"\\' }) };
    expect(CHARACTER_SQS_REFUSES.test(encodeQueuedEvent(json))).toBe(false);
    expect(decodeQueuedEvent(encodeQueuedEvent(json))).toEqual(json);
  });

  it('carries a max-size body of worst-case characters within the 4/3 bound and the queue limit', () => {
    const size = MAX_BODY_BYTES_SETTING;
    const worst: QueuedEvent[] = [
      textEvent('\u0001'.repeat(size)), // 6x as a JSON string
      textEvent('\uffff'.repeat(size / 3)), // 3 bytes each, 6 escaped
      { ...queuedEvent('msg_quotes'), body: `[${'"",'.repeat((size - 5) / 3)}""]`.padEnd(size, ' ') }, // 2x
    ];
    for (const event of worst) {
      expect(Buffer.byteLength(event.body)).toBe(size);
      const bytes = Buffer.byteLength(encodeQueuedEvent(event));
      expect({ bytes, fits: bytes <= worstCaseMessageBytes(size) && bytes <= INBOUND_QUEUE.maxMessageBytes }).toEqual({ bytes, fits: true });
      expect(decodeQueuedEvent(encodeQueuedEvent(event)).body).toBe(event.body);
    }
  });

  it('keeps a typical JSON body readable in the message, and still reads version 1 messages', () => {
    const event = queuedEvent('msg_plain', { type: 'order.paid', note: 'ünïcode "quoted"' });
    expect(JSON.parse(encodeQueuedEvent(event))).toMatchObject({ version: 2, bodyEncoding: 'identity', body: event.body });
    expect(JSON.parse(encodeQueuedEvent(textEvent('\u0001'.repeat(100))))).toMatchObject({ bodyEncoding: 'base64' });
    expect(decodeQueuedEvent(JSON.stringify({ ...event, version: 1 }))).toEqual(event);
    expect(() => decodeQueuedEvent(JSON.stringify({ ...event, version: 3 }))).toThrow();
  });
});

describe('local SQS stand-in', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-sqs-chars-'));
  const server = new SqsJsonServer({ dataDir, fsync: false });
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    const endpoint = await server.listen();
    queueUrl = server.createQueue({ name: 'chars', visibilityTimeoutSeconds: 30, delaySeconds: 0 }).url;
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  });
  afterAll(async () => {
    sqs.destroy();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses what SQS refuses with InvalidMessageContents (400), alone or as one entry of a batch', async () => {
    for (const character of REFUSED_BY_SQS) {
      const refused = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `a${character}b` })).then(
        () => undefined,
        (error: { name: string; $metadata: { httpStatusCode?: number } }) => ({ name: error.name, status: error.$metadata.httpStatusCode }),
      );
      expect({ character: character.codePointAt(0), refused }).toEqual({ character: character.codePointAt(0), refused: { name: 'InvalidMessageContents', status: 400 } });
    }
    const batch = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'good', MessageBody: ACCEPTED_BY_SQS.join('') }, { Id: 'bad', MessageBody: 'x\uffff' }] }),
    );
    expect(batch.Successful!.map((entry) => entry.Id)).toEqual(['good']);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'InvalidMessageContents', SenderFault: true })]);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages!.map((message) => message.Body)).toEqual([ACCEPTED_BY_SQS.join('')]);
  });

  it('takes the encoded form of an event full of refused characters, and hands back the same event', async () => {
    const event = textEvent(REFUSED_BY_SQS.join('').repeat(1000), { type: '\uffff' });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: encodeQueuedEvent(event) }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages!.map((message) => decodeQueuedEvent(message.Body!))).toEqual([event]);
  });
});
