import '../../fixtures/handler-environment';
import { Logger } from '@aws-lambda-powertools/logger';
import { buildHandler } from '../../../lambdas/handlers/sqs-process-inbound';
import { InMemoryEventStore } from '../../fixtures/in-memory-event-store';
import { InMemoryConnectionStore, RecordingMessenger } from '../../fixtures/in-memory-connections';
import { queuedEvent } from '../../fixtures/events';
import { encodeQueuedEvent } from '../../../lambdas/core/events/queued-event-codec';
import { context, sqsEvent } from '../../fixtures/api-gateway-events';

const queuedBody = (providerEventId: string, payload: object) => encodeQueuedEvent(queuedEvent(providerEventId, payload));

/** Counts subscriber lookups that reach the store. */
class CountingConnectionStore extends InMemoryConnectionStore {
  lookups = 0;
  override async findSubscribers(patterns: readonly string[]): Promise<string[]> {
    this.lookups++;
    return super.findSubscribers(patterns);
  }
}

function setup() {
  const logger = new Logger({ logLevel: 'SILENT' });
  const store = new InMemoryEventStore();
  const connections = new CountingConnectionStore();
  const messenger = new RecordingMessenger();
  const handler = buildHandler({
    store,
    connections,
    messenger,
    stepsFor: () => ({
      process: async (event) => {
        if (event.providerEventId === 'evt-poison') throw new Error('processing failed');
      },
    }),
    now: () => new Date(),
    retentionDays: 30,
    maxReceiveCount: 5,
    publish: async () => undefined,
    logger,
  });
  return { store, connections, messenger, handler, logger };
}

describe('sqs-process-inbound handler', () => {
  it('reports exactly the records that failed and processes the rest', async () => {
    const { store, connections, messenger, handler } = setup();
    await connections.save({ connectionId: 'browser', channels: ['demo'], connectedAt: '', expiresAt: 0 });

    const result = await handler(
      sqsEvent([
        { messageId: 'a', body: queuedBody('evt-a', { n: 1 }) },
        { messageId: 'b', body: 'not json at all' },
        { messageId: 'c', body: queuedBody('evt-poison', { n: 2 }) },
        { messageId: 'd', body: queuedBody('evt-a', { n: 1 }) },
      ]),
      context,
    );

    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['b', 'c']);
    const stored = [...store.events.values()];
    expect(stored.find((event) => event.providerEventId === 'evt-a')).toMatchObject({ status: 'processed', duplicates: 1 });
    expect(stored.find((event) => event.providerEventId === 'evt-poison')).toMatchObject({ status: 'failed', lastError: 'Error: processing failed' });
    expect(messenger.pushed.filter((push) => push.data.includes('"n":1'))).toHaveLength(1);
  });

  it('looks subscribers up once per batch and channel, and again in the next batch', async () => {
    const { connections, messenger, handler } = setup();
    await connections.save({ connectionId: 'browser', channels: ['demo'], connectedAt: '', expiresAt: 0 });
    const batch = (prefix: string) => sqsEvent(Array.from({ length: 5 }, (_, index) => ({ messageId: `${prefix}${index}`, body: queuedBody(`${prefix}-${index}`, { index }) })));

    await handler(batch('first'), context);
    expect(connections.lookups).toBe(1);
    expect(messenger.pushed).toHaveLength(5);

    await connections.save({ connectionId: 'late-joiner', channels: ['*'], connectedAt: '', expiresAt: 0 });
    await handler(batch('second'), context);
    expect(connections.lookups).toBe(2);
    expect(messenger.pushed.filter((push) => push.connectionId === 'late-joiner')).toHaveLength(5);
  });

  it('logs every failed attempt with the event id, the attempt and the error, never the payload', async () => {
    const { handler, logger } = setup();
    const errors = jest.spyOn(logger, 'error');
    const poison = queuedEvent('evt-poison', { secret: 'payload-secret-value' });
    const malformed = JSON.stringify({ ...JSON.parse(encodeQueuedEvent(poison)), id: 'not-an-id', body: '{"secret":"payload-secret-value"}' });

    await handler(
      sqsEvent([
        { messageId: 'c', body: encodeQueuedEvent(poison), receiveCount: 5 },
        { messageId: 'b', body: '{"secret":"payload-secret-value"', receiveCount: 2 },
        { messageId: 'm', body: malformed, receiveCount: 1 },
      ]),
      context,
    );

    // The batch runs its records concurrently, so the log order is not the record order.
    const logged = errors.mock.calls
      .map(([message, details]) => ({ message, details: details as { messageId: string } }))
      .sort((left, right) => right.details.messageId.localeCompare(left.details.messageId));
    expect(logged).toEqual([
      {
        message: 'processing failed',
        details: {
          messageId: 'm',
          receiveCount: 1,
          finalAttempt: false,
          error: { name: 'InvalidQueuedEventError', message: 'the queued message is not a hookhub event (bad fields: id)' },
        },
      },
      {
        message: 'processing failed',
        details: { eventId: poison.id, messageId: 'c', receiveCount: 5, finalAttempt: true, error: { name: 'Error', message: 'processing failed' } },
      },
      {
        message: 'processing failed',
        details: { messageId: 'b', receiveCount: 2, finalAttempt: false, error: { name: 'InvalidQueuedEventError', message: 'the queued message is not JSON' } },
      },
    ]);
    expect(JSON.stringify(logged)).not.toContain('payload-secret-value');
  });
});
