/** The Ably processing step: which stored events become message-log entries, with what, and which do not. */
import { createAblyProcessor } from '../../../lambdas/providers/ably/ably-processing';
import { ablyQueuedEvent, type AblyMessageRecord, type AblyPresenceRecord, type AblyLifecycleRecord } from '../../../lambdas/providers/ably/ably-message';
import type { StoredEvent, QueuedEvent } from '../../../lambdas/core/events/inbound-event';
import { InMemoryAblyMessageLog } from '../../fixtures/in-memory-ably-log';

const now = new Date('2026-11-23T12:00:00.000Z');
const request = { requestId: 'req-1', headers: {} };

function stored(queued: QueuedEvent): StoredEvent {
  return { ...queued, status: 'processed', attempts: 1, duplicates: 0, ownerMessageId: 'm', ownerReceiveCount: 1, storedAt: queued.receivedAt, expiresAt: 0 };
}

const message: AblyMessageRecord = {
  kind: 'message',
  messageId: 'abc:0:0',
  channel: 'smartadmin-status',
  name: 'status-update',
  clientId: 'device-7',
  connectionId: 'conn-1',
  direction: 'received',
  data: { cpu: 0.4, disks: [{ name: '/', free: 12 }] },
  timestamp: Date.parse('2026-11-23T11:59:58.123Z'),
  receivedAt: '2026-11-23T11:59:58.300Z',
  via: 'webhook',
};

describe('createAblyProcessor', () => {
  it('logs a channel message under its event id and source, expiring after the retention', async () => {
    const log = new InMemoryAblyMessageLog();
    const process = createAblyProcessor({ log, retentionDays: 30, now: () => now });
    const event = stored(ablyQueuedEvent('ably', message, request));
    await process(event);
    expect([...log.messages.values()]).toEqual([
      { message: { ...message, eventId: event.id, source: 'ably' }, expiresAt: now.getTime() / 1000 + 30 * 86_400 },
    ]);
    expect(await log.channelCounts('ably')).toEqual([{ channel: 'smartadmin-status', messages: 1, received: 1, sent: 0, lastTimestamp: message.timestamp }]);
  });

  it('logs a message processed twice once (a redelivered event)', async () => {
    const log = new InMemoryAblyMessageLog();
    const record = jest.spyOn(log, 'record');
    const process = createAblyProcessor({ log, retentionDays: 7, now: () => now });
    const event = stored(ablyQueuedEvent('ably', { ...message, direction: 'sent', channel: 'smartadmin-control-7' }, request));
    await process(event);
    await process(event);
    expect(record).toHaveBeenCalledTimes(2);
    expect(await record.mock.results[1]!.value).toBe('exists');
    expect(log.messages.size).toBe(1);
    expect((await log.channelCounts('ably'))[0]).toMatchObject({ messages: 1, sent: 1, received: 0 });
  });

  it('leaves presence and lifecycle events and bodies that are not JSON alone', async () => {
    const log = new InMemoryAblyMessageLog();
    const record = jest.spyOn(log, 'record');
    const process = createAblyProcessor({ log, retentionDays: 30, now: () => now });
    const presence: AblyPresenceRecord = {
      kind: 'presence',
      messageId: 'p1',
      channel: 'smartadmin-status',
      action: 'enter',
      clientId: 'device-7',
      data: null,
      timestamp: message.timestamp,
      receivedAt: message.receivedAt,
      via: 'webhook',
    };
    const lifecycle: AblyLifecycleRecord = { kind: 'lifecycle', messageId: 'l1', channel: 'smartadmin-status', name: 'channel.opened', timestamp: 1, receivedAt: message.receivedAt, via: 'webhook' };
    await process(stored(ablyQueuedEvent('ably', presence, request)));
    await process(stored(ablyQueuedEvent('ably', lifecycle, request)));
    const base = stored(ablyQueuedEvent('ably', message, request));
    for (const body of ['not json', '', '[1,2]', 'null', '"message"', '{"kind":"Message"}']) await process({ ...base, body });
    expect(record).not.toHaveBeenCalled();
  });

  it('fails the event, naming the fields, when a message record lacks what the log is keyed by', async () => {
    const log = new InMemoryAblyMessageLog();
    const process = createAblyProcessor({ log, retentionDays: 30, now: () => now });
    const base = stored(ablyQueuedEvent('ably', message, request));
    const { channel: _channel, ...withoutChannel } = message;
    await expect(process({ ...base, body: JSON.stringify(withoutChannel) })).rejects.toThrow(/channel/);
    await expect(process({ ...base, body: JSON.stringify({ ...message, timestamp: '2026-11-23', direction: 'up' }) })).rejects.toThrow(/direction, timestamp/);
    expect(log.messages.size).toBe(0);
  });

  it('passes a log failure on, so the worker retries the event', async () => {
    const log = new InMemoryAblyMessageLog();
    jest.spyOn(log, 'record').mockRejectedValueOnce(new Error('ProvisionedThroughputExceeded'));
    const process = createAblyProcessor({ log, retentionDays: 30, now: () => now });
    await expect(process(stored(ablyQueuedEvent('ably', message, request)))).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});
