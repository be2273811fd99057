import { parseChannelPatterns, patternsMatching } from '../../lambdas/core/realtime/channels';
import { fanOutEvent, realtimeMessage } from '../../lambdas/core/realtime/fan-out';
import { MAX_WEBSOCKET_MESSAGE_BYTES } from '../../lambdas/core/realtime/message-limit';
import { applyClientCommand, openConnection, parseClientCommand } from '../../lambdas/core/realtime/connections';
import { BadRequestError, ChannelLimitError } from '../../lambdas/core/errors';
import type { StoredEvent } from '../../lambdas/core/events/inbound-event';
import { InMemoryConnectionStore, RecordingMessenger } from '../fixtures/in-memory-connections';

const event = (channel: string, body = '{"text":"hi"}'): StoredEvent => ({
  id: 'evt_1',
  source: 'ably',
  providerEventId: 'p',
  type: 'channel.message',
  channel,
  receivedAt: '2026-11-23T10:00:00.000Z',
  requestId: 'r',
  headers: {},
  body,
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

describe('the channel cap is per connection', () => {
  const connection = { connectionId: 'c1', connectedAtMs: Date.now() };
  const channels = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
  const subscribe = (store: InMemoryConnectionStore, patterns: string[]) => applyClientCommand({ action: 'subscribe', channels: patterns }, connection, store);

  it('counts what the connection already has, and refuses past the cap naming it, changing nothing', async () => {
    const store = new InMemoryConnectionStore();
    await openConnection({ ...connection, channels: channels('q', 15).join(',') }, store);
    await subscribe(store, channels('m', 5));
    expect(store.channels.get('c1')!.size).toBe(20);

    const refused = subscribe(store, ['q0', 'one-too-many']);
    await expect(refused).rejects.toThrow(ChannelLimitError);
    await expect(refused).rejects.toThrow('at most 20 channel patterns per connection; this connection has 20 and the request adds 1 new');
    expect(store.channels.get('c1')!.has('one-too-many')).toBe(false);
    expect(store.channels.get('c1')!.size).toBe(20);
  });

  it('does not count a resubscribe twice', async () => {
    const store = new InMemoryConnectionStore();
    await openConnection({ ...connection, channels: channels('a', 20).join(',') }, store);
    await subscribe(store, channels('a', 20));
    await subscribe(store, ['a0']);
    expect(store.channels.get('c1')!.size).toBe(20);
  });

  it('frees room on unsubscribe', async () => {
    const store = new InMemoryConnectionStore();
    await openConnection({ ...connection, channels: channels('a', 20).join(',') }, store);
    await applyClientCommand({ action: 'unsubscribe', channels: ['a0', 'a1'] }, connection, store);
    await subscribe(store, ['b0', 'b1']);
    await expect(subscribe(store, ['b2'])).rejects.toThrow(ChannelLimitError);
  });

  it('holds across many messages: 50 subscribes of 20 channels each leave at most 20', async () => {
    const store = new InMemoryConnectionStore();
    await openConnection({ ...connection, channels: undefined }, store);
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, message) => subscribe(store, channels(`m${message}-`, 20))));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(store.channels.get('c1')!.size).toBe(20);
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

  describe('an event whose message would not fit in one WebSocket message', () => {
    /** A JSON body whose full realtime message is exactly `bytes` long, padded with `filler` (then 'x' for an odd byte). */
    function bodyForMessageOf(bytes: number, filler: 'x' | 'é'): string {
      const missing = bytes - Buffer.byteLength(realtimeMessage(event('demo', '{"pad":""}')));
      const fillerBytes = Buffer.byteLength(filler);
      return JSON.stringify({ pad: filler.repeat(Math.floor(missing / fillerBytes)) + 'x'.repeat(missing % fillerBytes) });
    }

    it('still carries the payload when the message is exactly at the limit', () => {
      const message = realtimeMessage(event('demo', bodyForMessageOf(MAX_WEBSOCKET_MESSAGE_BYTES, 'x')));
      expect(Buffer.byteLength(message)).toBe(MAX_WEBSOCKET_MESSAGE_BYTES);
      expect(JSON.parse(message).event.payload).toEqual({ pad: expect.any(String) });
    });

    it('is pushed without its payload, saying so and where to fetch it, one byte over the limit', () => {
      const message = realtimeMessage(event('demo', bodyForMessageOf(MAX_WEBSOCKET_MESSAGE_BYTES + 1, 'x')));
      expect(JSON.parse(message)).toEqual({
        type: 'event',
        event: {
          id: 'evt_1',
          source: 'ably',
          type: 'channel.message',
          channel: 'demo',
          receivedAt: '2026-11-23T10:00:00.000Z',
          payloadOmitted: true,
          payloadPath: '/api/events/evt_1',
        },
      });
    });

    it('is measured in UTF-8 bytes, not characters', () => {
      const body = bodyForMessageOf(MAX_WEBSOCKET_MESSAGE_BYTES + 1, 'é');
      expect(body.length).toBeLessThan(MAX_WEBSOCKET_MESSAGE_BYTES);
      expect(JSON.parse(realtimeMessage(event('demo', body))).event).toMatchObject({ payloadOmitted: true });
    });

    it('still reaches every subscriber', async () => {
      const store = new InMemoryConnectionStore();
      await store.save({ connectionId: 'a', channels: ['demo'], connectedAt: '', expiresAt: 0 });
      await store.save({ connectionId: 'b', channels: ['*'], connectedAt: '', expiresAt: 0 });
      const messenger = new RecordingMessenger();
      const big = event('demo', JSON.stringify({ blob: 'x'.repeat(200 * 1024) }));

      expect(await fanOutEvent(big, { connections: store, messenger })).toEqual({ sent: 2, gone: 0, failed: 0 });
      for (const push of messenger.pushed) {
        expect(Buffer.byteLength(push.data)).toBeLessThanOrEqual(MAX_WEBSOCKET_MESSAGE_BYTES);
        expect(JSON.parse(push.data).event).toMatchObject({ id: 'evt_1', payloadOmitted: true, payloadPath: '/api/events/evt_1' });
      }
    });
  });
});
