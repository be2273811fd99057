import { processInboundEvent, type ProcessInboundDeps } from '../../lambdas/core/events/process-inbound';
import type { QueuedEvent, StoredEvent } from '../../lambdas/core/events/inbound-event';
import { eventIdFor } from '../../lambdas/core/events/event-id';
import { InMemoryEventStore } from '../fixtures/in-memory-event-store';

function queued(providerEventId = 'msg_1', source = 'demo'): QueuedEvent {
  return {
    version: 1,
    id: eventIdFor(source, providerEventId),
    source,
    providerEventId,
    type: 'thing.happened',
    channel: source,
    receivedAt: '2026-11-23T10:00:00.000Z',
    requestId: 'req',
    headers: {},
    body: '{"n":1}',
    payloadFormat: 'json',
  };
}

function setup(options: { processor?: (event: StoredEvent) => Promise<void> } = {}) {
  const store = new InMemoryEventStore();
  const fannedOut: string[] = [];
  const deps: ProcessInboundDeps = {
    store,
    fanOut: async (event) => {
      fannedOut.push(event.id);
      return { sent: 1, gone: 0, failed: 0 };
    },
    processors: options.processor ? { custom: options.processor } : {},
    processorFor: () => (options.processor ? 'custom' : undefined),
    now: () => new Date('2026-11-23T10:00:01.000Z'),
    retentionDays: 30,
  };
  return { store, fannedOut, deps };
}

describe('processInboundEvent', () => {
  it('stores a new event as processed, with TTL, and fans it out once', async () => {
    const { store, fannedOut, deps } = setup();
    const outcome = await processInboundEvent(queued(), { messageId: 'm1' }, deps);
    expect(outcome).toMatchObject({ outcome: 'processed', attempts: 1 });
    const stored = await store.get(queued().id);
    expect(stored).toMatchObject({ status: 'processed', attempts: 1, duplicates: 0, ownerMessageId: 'm1', processedAt: '2026-11-23T10:00:01.000Z' });
    expect(stored!.expiresAt).toBe(Date.parse('2026-11-23T10:00:01.000Z') / 1000 + 30 * 86_400);
    expect(fannedOut).toEqual([queued().id]);
  });

  it('acknowledges a second copy (another message) as a duplicate without fanning out again', async () => {
    const { store, fannedOut, deps } = setup();
    await processInboundEvent(queued(), { messageId: 'm1' }, deps);
    const second = await processInboundEvent(queued(), { messageId: 'm2' }, deps);
    expect(second).toEqual({ outcome: 'duplicate', eventId: queued().id });
    expect((await store.get(queued().id))!.duplicates).toBe(1);
    expect(fannedOut).toHaveLength(1);
  });

  it('acknowledges a redelivery of the owning message after processing finished, without counting a duplicate', async () => {
    const { store, fannedOut, deps } = setup();
    await processInboundEvent(queued(), { messageId: 'm1' }, deps);
    // e.g. the worker crashed after processing but before SQS deleted the message
    expect(await processInboundEvent(queued(), { messageId: 'm1' }, deps)).toEqual({ outcome: 'already-processed', eventId: queued().id });
    expect(await store.get(queued().id)).toMatchObject({ duplicates: 0, attempts: 1 });
    expect(fannedOut).toHaveLength(1);
  });

  it('records a failure and rethrows it so the message is retried', async () => {
    const { store, deps } = setup({ processor: async () => Promise.reject(new Error('upstream 503')) });
    await expect(processInboundEvent(queued(), { messageId: 'm1' }, deps)).rejects.toThrow('upstream 503');
    expect(await store.get(queued().id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'Error: upstream 503' });
  });

  it('resumes on redelivery of the same message and counts the attempt', async () => {
    let calls = 0;
    const { store, fannedOut, deps } = setup({
      processor: async () => {
        calls++;
        if (calls === 1) throw new Error('flaky');
      },
    });
    await expect(processInboundEvent(queued(), { messageId: 'm1' }, deps)).rejects.toThrow('flaky');
    const retry = await processInboundEvent(queued(), { messageId: 'm1' }, deps);
    expect(retry).toMatchObject({ outcome: 'processed', attempts: 2 });
    expect(await store.get(queued().id)).toMatchObject({ status: 'processed', attempts: 2, duplicates: 0 });
    expect(store.events.get(queued().id)!.lastError).toBeUndefined();
    expect(fannedOut).toHaveLength(1);
  });

  it('lets a provider retry (another message) take over an event whose processing failed', async () => {
    let fail = true;
    const { store, deps } = setup({ processor: async () => { if (fail) throw new Error('down'); } });
    await expect(processInboundEvent(queued(), { messageId: 'm1' }, deps)).rejects.toThrow('down');
    fail = false;
    expect(await processInboundEvent(queued(), { messageId: 'm2' }, deps)).toMatchObject({ outcome: 'processed' });
    expect(await store.get(queued().id)).toMatchObject({ ownerMessageId: 'm2', status: 'processed' });
    // The original message, redelivered later, is now just a duplicate.
    expect(await processInboundEvent(queued(), { messageId: 'm1' }, deps)).toMatchObject({ outcome: 'duplicate' });
  });

  it('treats a copy arriving while the owner is still in flight as a duplicate', async () => {
    const { store, deps } = setup();
    await store.insertIfAbsent({ ...queued(), status: 'received', attempts: 1, duplicates: 0, ownerMessageId: 'm1', storedAt: 'x', expiresAt: 0 } as StoredEvent);
    expect(await processInboundEvent(queued(), { messageId: 'm2' }, deps)).toMatchObject({ outcome: 'duplicate' });
  });

  it('fails loudly when a source names a processor nobody registered', async () => {
    const { deps } = setup();
    await expect(processInboundEvent(queued(), { messageId: 'm1' }, { ...deps, processorFor: () => 'servicem8-fetch' })).rejects.toThrow(
      "no processor named 'servicem8-fetch'",
    );
  });
});
