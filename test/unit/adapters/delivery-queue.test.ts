/**
 * The delivery queue: the task codec, and the two DeliveryQueue adapters (SqsDeliveryQueue against the local SQS
 * endpoint, LocalDeliveryQueue in process) run through the same cases, so they cannot drift.
 */
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { decodeDeliveryTask, encodeDeliveryTask, InvalidDeliveryTaskError } from '../../../lambdas/core/outbound/delivery-task-codec';
import type { DeliveryTask } from '../../../lambdas/core/outbound/outbound-model';
import type { DeliveryQueue } from '../../../lambdas/core/outbound/outbound-ports';
import { SqsDeliveryQueue } from '../../../lambdas/adapters/sqs/sqs-delivery-queue';
import { LocalDeliveryQueue } from '../../../lib/local/sqs/local-delivery-queue';
import { MAX_MESSAGE_BYTES } from '../../../lib/local/sqs/local-queue';
import { messageRefusal } from '../../../lib/local/sqs/message-rules';
import { InMemoryDeliveryQueue } from '../../fixtures/in-memory-outbound';
import { useLocalSqsQueue } from '../../fixtures/local-sqs-queue';

function task(n: number, overrides: Partial<DeliveryTask> = {}): DeliveryTask {
  return {
    messageId: `msg_01KAPZ3NDE${String(n).padStart(16, '0')}`,
    endpointId: 'ep_01KAPZ3NDE0000000000000001',
    eventType: 'project.created',
    source: 'app',
    payload: JSON.stringify({ n, name: 'Widget' }),
    attemptNumber: 1,
    trigger: 'scheduled',
    createdAt: '2026-11-23T12:00:00.000Z',
    ...overrides,
  };
}

describe('delivery task codec', () => {
  it('round-trips a task, the payload byte for byte, with no character SQS refuses in the body', () => {
    const payload = JSON.stringify({ text: 'quotes " backslash \\ nul \u0000 noncharacter \uffff emoji 🚀 lone \ud800' });
    const tasks = [task(1, { payload }), task(2, { trigger: 'manual', attemptNumber: 4, notBefore: '2026-11-24T12:00:00.000Z' })];
    for (const each of tasks) {
      const body = encodeDeliveryTask(each);
      expect(messageRefusal(body)).toBeUndefined();
      expect(decodeDeliveryTask(body)).toEqual(each);
    }
    expect(decodeDeliveryTask(encodeDeliveryTask(tasks[0]!))).not.toHaveProperty('notBefore');
  });

  it('refuses a message that is not a task, naming the fields but never their values', () => {
    expect(() => decodeDeliveryTask('{not json')).toThrow(new InvalidDeliveryTaskError('the delivery message is not JSON'));
    const secret = 'sk_live_do_not_log';
    const body = JSON.parse(encodeDeliveryTask(task(1, { payload: secret })));
    const broken = JSON.stringify({ ...body, attemptNumber: 0, endpointId: secret, trigger: 'sometime', createdAt: 'yesterday' });
    let thrown: unknown;
    try {
      decodeDeliveryTask(broken);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidDeliveryTaskError);
    expect((thrown as Error).message).toMatch(/bad fields: .*attemptNumber/);
    for (const field of ['endpointId', 'trigger', 'createdAt']) expect((thrown as Error).message).toContain(field);
    expect((thrown as Error).message).not.toContain(secret);
    expect(() => decodeDeliveryTask(JSON.stringify({ ...body, version: 2 }))).toThrow(/bad fields: version/);
    expect(() => decodeDeliveryTask('[]')).toThrow(/bad fields: \(root\)/);
  });
});

const sqs = useLocalSqsQueue('delivery');

/** The tasks visible now, decoded. */
const drain = (): DeliveryTask[] => sqs.drainBodies().map(decodeDeliveryTask);

const byMessage = (a: DeliveryTask, b: DeliveryTask) => a.messageId.localeCompare(b.messageId);

describe.each<[string, () => DeliveryQueue]>([
  ['SqsDeliveryQueue over the local SQS endpoint', () => new SqsDeliveryQueue(sqs.client, sqs.queueUrl)],
  ['LocalDeliveryQueue in process', () => new LocalDeliveryQueue(sqs.queue)],
])('%s', (_name, adapter) => {
  it('queues every task with its own delay, however many batches that takes', async () => {
    const sent = Array.from({ length: 23 }, (_, n) => ({ task: task(n), delaySeconds: n % 3 === 0 ? 900 : 0 }));
    await adapter().send(sent);
    expect(sqs.queue.counts()).toEqual({ visible: 15, inFlight: 0, delayed: 8 });
    expect(drain().sort(byMessage)).toEqual(sent.filter(({ delaySeconds }) => delaySeconds === 0).map(({ task: each }) => each));
  });

  it('cuts batches by size too: ten large payloads do not fit one SendMessageBatch', async () => {
    const large = Array.from({ length: 10 }, (_, n) => ({ task: task(n, { payload: JSON.stringify({ blob: 'x'.repeat(250 * 1024) }) }), delaySeconds: 0 }));
    await adapter().send(large);
    expect(drain().sort(byMessage)).toEqual(large.map(({ task: each }) => each));
  });

  it('refuses a delay SQS would refuse, or a task over the message limit, before queuing anything', async () => {
    await expect(adapter().send([{ task: task(1), delaySeconds: 0 }, { task: task(2), delaySeconds: 901 }])).rejects.toThrow(RangeError);
    await expect(adapter().send([{ task: task(1), delaySeconds: 1.5 }])).rejects.toThrow(/whole number/);
    const huge = task(3, { payload: 'x'.repeat(MAX_MESSAGE_BYTES) });
    await expect(adapter().send([{ task: task(1), delaySeconds: 0 }, { task: huge, delaySeconds: 0 }])).rejects.toThrow(`the task for message ${huge.messageId} encodes to`);
    expect(sqs.queue.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('sends nothing for no tasks', async () => {
    await adapter().send([]);
    expect(sqs.queue.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});

describe('SqsDeliveryQueue when SQS does not take some entries', () => {
  /** An SQS client whose SendMessageBatch answers each call with the failures `failures` gives for its entries. */
  function clientFailing(failures: (entryIds: string[], call: number) => { Id: string; Code: string; SenderFault: boolean; Message?: string }[]) {
    const calls: string[][] = [];
    const fake = {
      send: jest.fn(async (command: SendMessageBatchCommand) => {
        const entryIds = command.input.Entries!.map((entry) => entry.Id!);
        calls.push(entryIds);
        const failed = failures(entryIds, calls.length);
        return { Successful: entryIds.filter((id) => !failed.some((failure) => failure.Id === id)).map((Id) => ({ Id, MessageId: Id, MD5OfMessageBody: '' })), Failed: failed };
      }),
    };
    return { client: fake as unknown as SQSClient, calls };
  }

  it('sends the failed entries once more, and resolves if they are taken then', async () => {
    const { client: failing, calls } = clientFailing((ids, call) => (call === 1 ? [{ Id: ids[1]!, Code: 'InternalError', SenderFault: false }] : []));
    await new SqsDeliveryQueue(failing, 'https://sqs.example/q').send([0, 1, 2].map((n) => ({ task: task(n), delaySeconds: 0 })));
    expect(calls).toEqual([['0', '1', '2'], ['1']]);
  });

  it('throws naming each task still refused; a sender fault is not sent again', async () => {
    const { client: failing, calls } = clientFailing((ids) => [
      ...(ids.includes('1') ? [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try later' }] : []),
      ...(ids.includes('2') ? [{ Id: '2', Code: 'InvalidMessageContents', SenderFault: true }] : []),
    ]);
    const sent = [0, 1, 2].map((n) => ({ task: task(n), delaySeconds: 0 }));
    await expect(new SqsDeliveryQueue(failing, 'https://sqs.example/q').send(sent)).rejects.toThrow(
      `SQS did not queue 2 of 3 delivery tasks (message ${task(2).messageId} to ${task(2).endpointId}: InvalidMessageContents: ; message ${task(1).messageId} to ${task(1).endpointId}: InternalError: try later)`,
    );
    expect(calls).toEqual([['0', '1', '2'], ['1']]);
  });
});

describe('InMemoryDeliveryQueue', () => {
  it('records tasks with their delays, refuses what the adapters refuse, and fails on demand', async () => {
    const fake = new InMemoryDeliveryQueue();
    await fake.send([{ task: task(1), delaySeconds: 30 }]);
    expect(fake.sent).toEqual([{ task: task(1), delaySeconds: 30 }]);
    await expect(fake.send([{ task: task(2), delaySeconds: 901 }])).rejects.toThrow(RangeError);
    await expect(fake.send([{ task: task(2, { attemptNumber: 0 }), delaySeconds: 0 }])).rejects.toThrow(InvalidDeliveryTaskError);
    fake.failNext();
    await expect(fake.send([{ task: task(3), delaySeconds: 0 }])).rejects.toThrow(/did not queue/);
    await fake.send([{ task: task(4), delaySeconds: 0 }]);
    expect(fake.tasks()).toEqual([task(1), task(4)]);
  });
});
