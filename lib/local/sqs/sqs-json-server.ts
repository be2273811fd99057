/**
 * A local SQS endpoint speaking the JSON protocol (`X-Amz-Target: AmazonSQS.<Action>`) that `@aws-sdk/client-sqs`
 * v3 uses, over durable LocalQueues. It implements the actions hookhub and its tests call; anything else gets the
 * error SQS would give for an unknown action, so a gap shows up loudly instead of as wrong behaviour.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { LocalQueue, MAX_MESSAGE_BYTES, type LocalQueueSettings } from './local-queue';
import { CHARACTER_SQS_REFUSES } from '../../../lambdas/core/events/queue-message-characters';
import { INVALID_CONTENTS, messageRefusal } from './message-rules';

const ACCOUNT = '000000000000';

class SqsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Request = Record<string, unknown>;

export class SqsJsonServer {
  private readonly queues = new Map<string, LocalQueue>();
  private server?: Server;
  endpoint = '';

  constructor(private readonly options: { dataDir: string; fsync: boolean }) {}

  async listen(port = 0): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  createQueue(settings: LocalQueueSettings): { queue: LocalQueue; url: string } {
    const queue = new LocalQueue(settings, this.options.dataDir, { fsync: this.options.fsync });
    this.queues.set(settings.name, queue);
    return { queue, url: this.urlOf(settings.name) };
  }

  urlOf(name: string): string {
    return `${this.endpoint}/${ACCOUNT}/${name}`;
  }

  async close(): Promise<void> {
    for (const queue of this.queues.values()) queue.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const target = String(request.headers['x-amz-target'] ?? '');
      if (request.method !== 'POST' || !target.startsWith('AmazonSQS.')) {
        throw new SqsError('com.amazonaws.sqs#InvalidAction', 'only the SQS JSON protocol is served here');
      }
      const body = await readBody(request);
      const input = (body.length > 0 ? JSON.parse(body) : {}) as Request;
      const output = await this.dispatch(target.slice('AmazonSQS.'.length), input);
      send(response, 200, output);
    } catch (error) {
      const sqsError = error instanceof SqsError ? error : new SqsError('com.amazonaws.sqs#InternalError', (error as Error).message, 500);
      send(response, sqsError.status, { __type: sqsError.type, message: sqsError.message });
    }
  }

  private async dispatch(action: string, input: Request): Promise<unknown> {
    switch (action) {
      case 'GetQueueUrl': {
        const name = String(input.QueueName ?? '');
        if (!this.queues.has(name)) throw nonExistentQueue();
        return { QueueUrl: this.urlOf(name) };
      }
      case 'ListQueues':
        return { QueueUrls: [...this.queues.keys()].map((name) => this.urlOf(name)) };
      case 'SendMessage': {
        const queue = this.queueOf(input);
        const body = messageBody(input.MessageBody);
        const [sent] = queue.send([{ body, delaySeconds: optionalSeconds(input.DelaySeconds, 900) }]);
        return { MessageId: sent!.id, MD5OfMessageBody: sent!.md5 };
      }
      case 'SendMessageBatch': {
        const queue = this.queueOf(input);
        const entries = batchEntries(input.Entries);
        const total = entries.reduce((sum, entry) => sum + Buffer.byteLength(String(entry.MessageBody ?? '')), 0);
        if (total > MAX_MESSAGE_BYTES) throw new SqsError('com.amazonaws.sqs#BatchRequestTooLong', `batch is ${total} bytes; the limit is ${MAX_MESSAGE_BYTES}`);
        // As SQS does, an entry with refused characters fails on its own; the rest of the batch is sent.
        const refused = entries.filter((entry) => typeof entry.MessageBody === 'string' && CHARACTER_SQS_REFUSES.test(entry.MessageBody));
        const accepted = entries.filter((entry) => !refused.includes(entry));
        const sent = accepted.length === 0 ? [] : queue.send(accepted.map((entry) => ({ body: messageBody(entry.MessageBody), delaySeconds: optionalSeconds(entry.DelaySeconds, 900) })));
        return {
          Successful: sent.map((message, index) => ({ Id: accepted[index]!.Id, MessageId: message.id, MD5OfMessageBody: message.md5 })),
          Failed: refused.map((entry) => ({ Id: entry.Id, Code: 'InvalidMessageContents', SenderFault: true, Message: INVALID_CONTENTS })),
        };
      }
      case 'ReceiveMessage': {
        const queue = this.queueOf(input);
        const max = optionalSeconds(input.MaxNumberOfMessages, 10) ?? 1;
        if (max < 1) throw invalidParameter('MaxNumberOfMessages must be from 1 to 10');
        const visibility = optionalSeconds(input.VisibilityTimeout, 43_200);
        const waitMs = (optionalSeconds(input.WaitTimeSeconds, 20) ?? 0) * 1000;
        const deadline = Date.now() + waitMs;
        let messages = queue.receive(max, visibility);
        while (messages.length === 0 && Date.now() < deadline) {
          await queue.waitForMessages(deadline - Date.now());
          messages = queue.receive(max, visibility);
        }
        return messages.length > 0 ? { Messages: messages } : {};
      }
      case 'DeleteMessage': {
        const [result] = this.queueOf(input).delete([String(input.ReceiptHandle ?? '')]);
        if (!result!.known) throw new SqsError('com.amazonaws.sqs#ReceiptHandleIsInvalid', 'receipt handle is invalid');
        return {};
      }
      case 'DeleteMessageBatch': {
        const entries = batchEntries(input.Entries);
        const results = this.queueOf(input).delete(entries.map((entry) => String(entry.ReceiptHandle ?? '')));
        return {
          Successful: results.flatMap((result, index) => (result.known ? [{ Id: entries[index]!.Id }] : [])),
          Failed: results.flatMap((result, index) =>
            result.known ? [] : [{ Id: entries[index]!.Id, Code: 'ReceiptHandleIsInvalid', SenderFault: true, Message: 'receipt handle is invalid' }],
          ),
        };
      }
      case 'ChangeMessageVisibility': {
        const timeout = optionalSeconds(input.VisibilityTimeout, 43_200);
        if (timeout === undefined) throw invalidParameter('VisibilityTimeout is required');
        if (!this.queueOf(input).changeVisibility(String(input.ReceiptHandle ?? ''), timeout)) {
          throw new SqsError('com.amazonaws.sqs#MessageNotInflight', 'message is not in flight');
        }
        return {};
      }
      case 'GetQueueAttributes': {
        const queue = this.queueOf(input);
        const counts = queue.counts();
        const redrive = queue.settings.redrive;
        return {
          Attributes: {
            QueueArn: `arn:aws:sqs:local:${ACCOUNT}:${queue.name}`,
            ApproximateNumberOfMessages: String(counts.visible),
            ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
            ApproximateNumberOfMessagesDelayed: String(counts.delayed),
            VisibilityTimeout: String(queue.settings.visibilityTimeoutSeconds),
            DelaySeconds: String(queue.settings.delaySeconds),
            ...(redrive
              ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:local:${ACCOUNT}:${redrive.deadLetterQueue.name}`, maxReceiveCount: redrive.maxReceiveCount }) }
              : {}),
          },
        };
      }
      case 'PurgeQueue':
        this.queueOf(input).purge();
        return {};
      default:
        throw new SqsError('com.amazonaws.sqs#UnsupportedOperation', `${action} is not supported by the local SQS endpoint`);
    }
  }

  private queueOf(input: Request): LocalQueue {
    const name = String(input.QueueUrl ?? '').split('/').pop() ?? '';
    const queue = this.queues.get(name);
    if (!queue) throw nonExistentQueue();
    return queue;
  }
}

function nonExistentQueue(): SqsError {
  return new SqsError('com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.');
}

function invalidParameter(message: string): SqsError {
  return new SqsError('com.amazonaws.sqs#InvalidParameterValue', message);
}

function messageBody(value: unknown): string {
  const refusal = messageRefusal(value);
  if (refusal) throw new SqsError(`com.amazonaws.sqs#${refusal.code}`, refusal.message);
  return value as string;
}

function optionalSeconds(value: unknown, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > max) throw invalidParameter(`value ${String(value)} is out of range 0..${max}`);
  return number;
}

function batchEntries(value: unknown): Record<string, unknown>[] & { Id?: string }[] {
  if (!Array.isArray(value) || value.length === 0) throw new SqsError('com.amazonaws.sqs#EmptyBatchRequest', 'batch is empty');
  if (value.length > 10) throw new SqsError('com.amazonaws.sqs#TooManyEntriesInBatchRequest', 'at most 10 entries');
  const ids = new Set(value.map((entry: { Id?: unknown }) => entry.Id));
  if (ids.size !== value.length) throw new SqsError('com.amazonaws.sqs#BatchEntryIdsNotDistinct', 'entry ids must be distinct');
  return value as Record<string, unknown>[];
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 2 * MAX_MESSAGE_BYTES + 65_536) throw new SqsError('com.amazonaws.sqs#BatchRequestTooLong', 'request too large', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
  response.end(text);
}
