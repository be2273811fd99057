import { parseChannelPatterns, patternsMatching } from '../../lambdas/core/realtime/channels';
import { fanOutEvent, realtimeMessage } from '../../lambdas/core/realtime/fan-out';
import { applyClientCommand, openConnection, parseClientCommand } from '../../lambdas/core/realtime/connections';
import { BadRequestError } from '../../lambdas/core/errors';
import type { StoredEvent } from '../../lambdas/core/events/inbound-event';
import { InMemoryConnectionStore, RecordingMessenger } from '../fixtures/in-memory-connections';

const event = (channel: string): StoredEvent => ({
  id: 'evt_1',
  source: 'ably',
  providerEventId: 'p',
  type: 'channel.message',
  channel,
  receivedAt: '2026-11-23T10:00:00.000Z',
  requestId: 'r',
  headers: {},
  body: '{"text":"hi"}',
  payloadFormat: 'json',
  status: 'received',
  attempts: 1,
  duplicates: 0,
  ownerMessageId: 'm',
  ownerReceiveCount: 1,
  leaseUntil: 0,
  storedAt: '2026-11-23T10:00:00.000Z',
  expiresAt: 0,
});

describe('channel patterns', () => {
  it('lists exactly the patterns that match a channel', () => {
    expect(patternsMatching('ably:job:42').sort()).toEqual(['*', 'ably:*', 'ably:job:*', 'ably:job:42'].sort());
    expect(patternsMatching('ably:job-1')).toContain('ably:*');
    expect(patternsMatching('ablyx')).not.toContain('ably:*');
    expect(patternsMatching('demo:sub')).not.toContain('demo');
  });

  it('parses query and message forms and names a bad entry', () => {
    expect(parseChannelPatterns('demo, ably:*,,demo')).toEqual(['demo', 'ably:*']);
    expect(parseChannelPatterns(undefined)).toEqual([]);
    expect(() => parseChannelPatterns('ab*c')).toThrow("invalid channel pattern 'ab*c'");
    expect(() => parseChannelPatterns([42])).toThrow(BadRequestError);
    expect(() => parseChannelPatterns(Array.from({ length: 21 }, (_, i) => `c${i}`))).toThrow('at most 20');
  });
});

describe('client commands', () => {
  it('parses subscribe and refuses malformed frames with a 400', () => {
    expect(parseClientCommand('{"action":"subscribe","channels":["demo"]}')).toEqual({ action: 'subscribe', channels: ['demo'] });
    for (const frame of ['not json', '{"action":"shout","channels":["a"]}', '{"action":"subscribe","channels":[]}']) {
      expect(() => parseClientCommand(frame)).toThrow(BadRequestError);
    }
  });

  it('subscribes and unsubscribes a connection', async () => {
    const store = new InMemoryConnectionStore();
    await openConnection({ connectionId: 'c1', connectedAtMs: Date.now(), channels: 'demo' }, store);
    await applyClientCommand({ action: 'subscribe', channels: ['ably:*'] }, { connectionId: 'c1', connectedAtMs: Date.now() }, store);
    expect(await store.findSubscribers(['ably:*'])).toEqual(['c1']);
    await applyClientCommand({ action: 'unsubscribe', channels: ['demo'] }, { connectionId: 'c1', connectedAtMs: Date.now() }, store);
    expect(await store.findSubscribers(['demo'])).toEqual([]);
  });
});

describe('fanOutEvent', () => {
  it('pushes to matching subscribers only, removes gone ones, and survives a broken socket', async () => {
    const store = new InMemoryConnectionStore();
    await store.save({ connectionId: 'exact', channels: ['ably:job:1'], connectedAt: '', expiresAt: 0 });
    await store.save({ connectionId: 'wildcard', channels: ['ably:*'], connectedAt: '', expiresAt: 0 });
    await store.save({ connectionId: 'other', channels: ['demo'], connectedAt: '', expiresAt: 0 });
    await store.save({ connectionId: 'stale', channels: ['*'], connectedAt: '', expiresAt: 0 });
    await store.save({ connectionId: 'broken', channels: ['*'], connectedAt: '', expiresAt: 0 });
    const messenger = new RecordingMessenger(new Set(['stale']), new Set(['broken']));
    const errors: string[] = [];

    const result = await fanOutEvent(event('ably:job:1'), { connections: store, messenger, onPushError: (id) => errors.push(id) });

    expect(result).toEqual({ sent: 2, gone: 1, failed: 1 });
    expect(messenger.pushed.map((push) => push.connectionId).sort()).toEqual(['exact', 'wildcard']);
    expect(store.channels.has('stale')).toBe(false);
    expect(errors).toEqual(['broken']);
  });

  it('sends the documented message shape', () => {
    expect(JSON.parse(realtimeMessage(event('demo')))).toEqual({
      type: 'event',
      event: { id: 'evt_1', source: 'ably', type: 'channel.message', channel: 'demo', receivedAt: '2026-11-23T10:00:00.000Z', payload: { text: 'hi' } },
    });
  });
});
