import { EventBusyError, processInboundEvent, type ProcessInboundDeps } from '../../lambdas/core/events/process-inbound';
import type { QueuedEvent, StoredEvent } from '../../lambdas/core/events/inbound-event';
import { queuedEvent } from '../fixtures/events';
import { InMemoryEventStore } from '../fixtures/in-memory-event-store';

const queued = () => queuedEvent();

const LEASE_SECONDS = 180;
const id = queued().id;
const delivery = (messageId: string, receiveCount = 1) => ({ messageId, receiveCount });

function setup(options: { processor?: (event: StoredEvent) => Promise<void> } = {}) {
  const store = new InMemoryEventStore();
  const fannedOut: string[] = [];
  const published: string[] = [];
  let clock = Date.parse('2026-11-23T10:00:01.000Z');
  const deps: ProcessInboundDeps = {
    store,
    fanOut: async (event) => {
      fannedOut.push(event.ownerMessageId);
      return { sent: 1, gone: 0, failed: 0 };
    },
    stepsFor: () => (options.processor ? { process: options.processor } : {}),
    now: () => new Date(clock),
    retentionDays: 30,
    maxReceiveCount: 5,
    publish: async (event) => published.push(event.id),
  };
  return { store, fannedOut, published, deps, advance: (ms: number) => (clock += ms) };
}

const failingOnce = () => {
  let calls = 0;
  return async () => {
    calls++;
    if (calls === 1) throw new Error('flaky');
  };
};

describe('processInboundEvent', () => {
  it('stores a new event as processed, with TTL, and fans it out once', async () => {
    const { store, fannedOut, published, deps } = setup();
    expect(await processInboundEvent(queued(), delivery('m1'), deps)).toMatchObject({ outcome: 'processed', attempts: 1 });
    const stored = await store.get(id);
    expect(stored).toMatchObject({ status: 'processed', attempts: 1, duplicates: 0, ownerMessageId: 'm1', processedAt: '2026-11-23T10:00:01.000Z' });
    expect(stored!.expiresAt).toBe(Date.parse('2026-11-23T10:00:01.000Z') / 1000 + 30 * 86_400);
    expect(fannedOut).toEqual(['m1']);
    expect(published).toEqual([id]);
  });

  it('acknowledges a second copy (another message) as a duplicate without fanning out or publishing again', async () => {
    const { store, fannedOut, published, deps } = setup();
    await processInboundEvent(queued(), delivery('m1'), deps);
    expect(await processInboundEvent(queued(), delivery('m2'), deps)).toEqual({ outcome: 'duplicate', eventId: id });
    expect((await store.get(id))!.duplicates).toBe(1);
    expect(fannedOut).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  it('records the event as failed and rethrows when publishing it as an outbound message fails', async () => {
    const { store, deps } = setup();
    deps.publish = async () => {
      throw new Error('delivery queue unavailable');
    };
    await expect(processInboundEvent(queued(), delivery('m1'), deps)).rejects.toThrow('delivery queue unavailable');
    expect(await store.get(id)).toMatchObject({ status: 'failed', lastError: 'Error: delivery queue unavailable' });
  });

  it('pushes again on a newer delivery of the owning message after processing, without counting a duplicate', async () => {
    const { store, fannedOut, deps } = setup();
    await processInboundEvent(queued(), delivery('m1'), deps);
    // The worker crashed after its write, before or after the push, or before SQS deleted the message: the record
    // cannot tell which, so the redelivery pushes again (at least once). docs/decisions.md, "One write per event".
    expect(await processInboundEvent(queued(), delivery('m1', 2), deps)).toMatchObject({ outcome: 'processed', attempts: 2 });
    expect(await store.get(id)).toMatchObject({ status: 'processed', duplicates: 0, attempts: 2, ownerReceiveCount: 2 });
    expect(fannedOut).toEqual(['m1', 'm1']);
  });

  it('acknowledges the same delivery of the owning message seen twice, without pushing again', async () => {
    const { store, fannedOut, deps } = setup();
    await processInboundEvent(queued(), delivery('m1', 2), deps);
    expect(await processInboundEvent(queued(), delivery('m1', 2), deps)).toEqual({ outcome: 'already-processed', eventId: id });
    expect(await store.get(id)).toMatchObject({ duplicates: 0, attempts: 1 });
    expect(fannedOut).toHaveLength(1);
  });

  it('records a failure and rethrows it so the message is retried', async () => {
    const { store, deps } = setup({ processor: async () => Promise.reject(new Error('upstream 503')) });
    await expect(processInboundEvent(queued(), delivery('m1'), deps)).rejects.toThrow('upstream 503');
    expect(await store.get(id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'Error: upstream 503' });
  });

  it('resumes on a newer delivery of the same message and counts the attempt', async () => {
    const { store, fannedOut, deps } = setup({ processor: failingOnce() });
    await expect(processInboundEvent(queued(), delivery('m1', 1), deps)).rejects.toThrow('flaky');
    expect(await processInboundEvent(queued(), delivery('m1', 2), deps)).toMatchObject({ outcome: 'processed', attempts: 2 });
    const stored = await store.get(id);
    expect(stored).toMatchObject({ status: 'processed', attempts: 2, duplicates: 0 });
    expect(stored!.lastError).toBeUndefined();
    expect(fannedOut).toHaveLength(1);
  });

  it('lets one copy take over a failed event; the other, arriving after, is a duplicate', async () => {
    const { store, fannedOut, deps } = setup({ processor: failingOnce() });
    await expect(processInboundEvent(queued(), delivery('m1', 1), deps)).rejects.toThrow('flaky');
    // A provider retry (m2) takes over first; the original message's redelivery comes after it.
    expect(await processInboundEvent(queued(), delivery('m2', 1), deps)).toMatchObject({ outcome: 'processed' });
    expect(await processInboundEvent(queued(), delivery('m1', 2), deps)).toMatchObject({ outcome: 'duplicate' });
    expect(await store.get(id)).toMatchObject({ ownerMessageId: 'm2', status: 'processed' });
    expect(fannedOut).toEqual(['m2']);
  });

  it('does not let a copy take an event over while its owner still holds the lease', async () => {
    const { fannedOut, deps } = setup({
      processor: async () => {
        // While m1 is processing, a provider retry arrives.
        expect(await processInboundEvent(queued(), delivery('m2'), { ...deps, stepsFor: () => ({}) })).toMatchObject({ outcome: 'duplicate' });
      },
    });
    expect(await processInboundEvent(queued(), delivery('m1'), deps)).toMatchObject({ outcome: 'processed' });
    expect(fannedOut).toEqual(['m1']);
  });

  it('fences a superseded delivery: its late failure is not recorded over the newer delivery', async () => {
    let inner: Promise<unknown> | undefined;
    const { store, fannedOut, deps } = setup({
      processor: async (event) => {
        if (event.ownerReceiveCount !== 1) return;
        // Delivery 1 of m1 is slow; SQS redelivers m1 (delivery 2), which takes over and finishes first.
        inner = processInboundEvent(queued(), delivery('m1', 2), deps);
        await inner;
        throw new Error('late failure');
      },
    });
    await expect(processInboundEvent(queued(), delivery('m1', 1), deps)).rejects.toThrow('late failure');
    expect(await inner).toMatchObject({ outcome: 'processed' });
    const stored = await store.get(id);
    expect(stored).toMatchObject({ status: 'processed', ownerReceiveCount: 2, attempts: 2 });
    expect(stored!.lastError).toBeUndefined();
    expect(fannedOut).toEqual(['m1']);
  });

  it('rescues an event stuck in received (owner died without a trace) once the lease runs out', async () => {
    const { store, deps, advance } = setup();
    // The first delivery inserted the record and died (timeout, out of memory) before recording anything.
    await store.insertIfAbsent({
      ...queued(),
      status: 'received',
      attempts: 1,
      duplicates: 0,
      ownerMessageId: 'm1',
      ownerReceiveCount: 1,
      leaseUntil: Date.parse('2026-11-23T10:00:01.000Z') + LEASE_SECONDS * 1000,
      storedAt: '',
      expiresAt: 0,
    } as StoredEvent);
    expect(await processInboundEvent(queued(), delivery('redriven-from-dlq'), deps)).toMatchObject({ outcome: 'duplicate' });
    advance(LEASE_SECONDS * 1000 + 1);
    expect(await processInboundEvent(queued(), delivery('redriven-again'), deps)).toMatchObject({ outcome: 'processed', attempts: 2 });
    expect(await store.get(id)).toMatchObject({ status: 'processed', ownerMessageId: 'redriven-again' });
  });

  it('asks an older delivery of the owning message to retry later instead of dropping it', async () => {
    const { deps } = setup({
      processor: async () => {
        await expect(processInboundEvent(queued(), delivery('m1', 1), { ...deps, stepsFor: () => ({}) })).rejects.toThrow(EventBusyError);
      },
    });
    expect(await processInboundEvent(queued(), delivery('m1', 2), deps)).toMatchObject({ outcome: 'processed' });
  });

  it('stores the event as the source\'s prepare step reshaped it, and processes that', async () => {
    const processed: string[] = [];
    const { deps, store } = setup({ processor: async (event) => void processed.push(event.body) });
    const withPrepare = { ...deps, stepsFor: () => ({ prepare: async (event: QueuedEvent) => ({ ...event, body: '{"prepared":true}' }), process: deps.stepsFor('demo').process }) };
    await processInboundEvent(queued(), delivery('m1'), withPrepare);
    expect((await store.get(id))?.body).toBe('{"prepared":true}');
    expect(processed).toEqual(['{"prepared":true}']);
  });

  it('on the last receive before the DLQ, keeps the event failed while it is worked on, so a redrive of a delivery that died can take it over', async () => {
    // A processing step that never finishes stands for a delivery killed by the Lambda timeout.
    const hanging = setup({ processor: () => new Promise<void>(() => undefined) });
    void processInboundEvent(queued(), delivery('m1', 5), hanging.deps);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await hanging.store.get(id)).toMatchObject({ status: 'failed', lastError: expect.stringContaining('dead-letter queue') });
    // The DLQ redrive arrives under a new message id: it takes the event over and pushes it.
    hanging.deps.stepsFor = () => ({});
    expect(await processInboundEvent(queued(), delivery('redriven', 1), hanging.deps)).toMatchObject({ outcome: 'processed' });
    expect(hanging.fannedOut).toEqual(['redriven']);

    // A last receive that finishes leaves the event processed, out of the failed listing.
    const finishing = setup();
    expect(await processInboundEvent(queued(), delivery('m1', 5), finishing.deps)).toMatchObject({ outcome: 'processed' });
    const stored = await finishing.store.get(id);
    expect(stored).toMatchObject({ status: 'processed', attempts: 1 });
    expect(stored?.lastError).toBeUndefined();
  });
});
