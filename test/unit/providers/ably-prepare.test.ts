import { prepareAblyEvent } from '../../../lambdas/providers/ably/ably-prepare';
import { ablyQueuedEvent, type AblyMessageRecord, type AblyPresenceRecord, type AblyRecord } from '../../../lambdas/providers/ably/ably-message';
import type { QueuedEvent } from '../../../lambdas/core/events/inbound-event';
import { queuedEvent } from '../../fixtures/events';
import { source } from '../../fixtures/sources';

const ablySource = source({ id: 'ably', preset: 'ably', secret: { env: 'ABLY_API_KEY' } });
const base64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

function messageEvent(data: unknown, encoding?: string): QueuedEvent {
  const record: AblyMessageRecord = {
    kind: 'message', messageId: 'm-1', channel: 'smartadmin-status', name: 'status-update', direction: 'received',
    data, ...(encoding === undefined ? {} : { encoding }), timestamp: 1, receivedAt: '2026-12-01T10:00:00.000Z', via: 'webhook',
  };
  return eventOf(record);
}

const eventOf = (record: AblyRecord) => ablyQueuedEvent('ably', record, { requestId: 'req-1', headers: { 'x-ably-version': '1.2' } });
const prepared = async (event: QueuedEvent) => JSON.parse((await prepareAblyEvent(event, ablySource)).body) as Record<string, unknown>;

describe('prepareAblyEvent', () => {
  it.each([
    ['json', JSON.stringify({ cpu: 12, disks: ['a', 'b'] }), { cpu: 12, disks: ['a', 'b'] }],
    ['utf-8/base64', base64('héllo wörld ✓'), 'héllo wörld ✓'],
    ['json/base64', base64(JSON.stringify({ cmd: 'restart', delay: 5 })), { cmd: 'restart', delay: 5 }],
    ['json/utf-8/base64', base64(JSON.stringify([1, 'ü'])), [1, 'ü']],
  ])('decodes %s with the ably SDK and drops the encoding', async (encoding, data, decoded) => {
    const record = await prepared(messageEvent(data, encoding));
    expect(record.data).toEqual(decoded);
    expect(record).not.toHaveProperty('encoding');
    expect(record).not.toHaveProperty('decodeError');
    expect(record).toMatchObject({ kind: 'message', messageId: 'm-1', channel: 'smartadmin-status', name: 'status-update', via: 'webhook' });
  });

  it('decodes base64 to bytes, which stay base64 (the one form JSON carries) under encoding base64', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const record = await prepared(messageEvent(base64(bytes), 'base64'));
    expect(record).toMatchObject({ data: base64(bytes), encoding: 'base64' });
    expect(record).not.toHaveProperty('decodeError');
    expect(Buffer.from(record.data as string, 'base64')).toEqual(bytes);
  });

  it('decodes a presence record', async () => {
    const presence: AblyPresenceRecord = {
      kind: 'presence', messageId: 'p-1', channel: 'c', action: 'enter', clientId: 'device-7', data: base64('{"battery":80}'), encoding: 'json/base64',
      timestamp: 1, receivedAt: '2026-12-01T10:00:00.000Z', via: 'webhook',
    };
    const record = await prepared(eventOf(presence));
    const { encoding: _encoding, ...decoded } = presence;
    expect(record).toEqual({ ...decoded, data: { battery: 80 } });
  });

  it('changes nothing but the body', async () => {
    const event = messageEvent('{"a":1}', 'json');
    const { body, ...rest } = await prepareAblyEvent(event, ablySource);
    const { body: _original, ...before } = event;
    expect(rest).toEqual(before);
    expect(JSON.parse(body)).toMatchObject({ data: { a: 1 } });
  });

  // The SDK writes each decoding failure to console.warn (it has no public switch for the logger these calls use).
  const quietSdk = () => jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  afterEach(() => jest.restoreAllMocks());

  it.each([
    ['json that does not parse', 'not json {', 'json', "data is not JSON, as encoding 'json' says"],
    ['json inside base64 that does not parse', base64('{oops'), 'json/base64', "data is not JSON, as encoding 'json/base64' says"],
    ['base64 that is not base64', 'this is *not* base64', 'base64', "data is not base64, as encoding 'base64' says"],
    ['utf-8 bytes that are not UTF-8', base64(Buffer.from([0xc3, 0x28, 0xff])), 'utf-8/base64', "data is not UTF-8 text, as encoding 'utf-8/base64' says"],
    ['an encrypted payload', base64('ciphertext-ish'), 'cipher+aes-128-cbc/base64', "encoding 'cipher+aes-128-cbc/base64' is encrypted; hookhub holds no channel cipher key"],
    ['an unknown step', 'x', 'rot13', "encoding 'rot13' has a step hookhub cannot decode ('rot13')"],
    ['data that is not a string', { a: 1 }, 'json', "data must be a string for encoding 'json'"],
  ])('keeps %s as it came, with decodeError, and writes none of it to the console', async (_case, data, encoding, decodeError) => {
    const console = quietSdk();
    const record = await prepared(messageEvent(data, encoding));
    expect(record).toMatchObject({ data, encoding, decodeError });
    // The SDK reports failures on the console with part of the payload; the checks before it keep it from seeing these.
    expect(console).not.toHaveBeenCalled();
  });

  it('keeps a json payload that decodes deeper than the nesting limit as it came', async () => {
    const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
    const record = await prepared(messageEvent(deep, 'json'));
    expect(record).toMatchObject({ data: deep, encoding: 'json', decodeError: 'the decoded data nests deeper than 128 levels' });
  });

  it('passes through records without an encoding, lifecycle records and events that are not Ably records', async () => {
    const plain = messageEvent({ cpu: 1 });
    const lifecycle = eventOf({ kind: 'lifecycle', messageId: 'h', channel: 'c', name: 'channel.opened', timestamp: 1, receivedAt: 'x', via: 'webhook' });
    const generic = queuedEvent('g', { type: 'order.paid', encoding: 'json' });
    const text = { ...queuedEvent('t'), body: 'plain text', payloadFormat: 'text' as const };
    const broken = { ...queuedEvent('b'), body: '{not json' };
    for (const event of [plain, lifecycle, generic, text, broken]) expect(await prepareAblyEvent(event, ablySource)).toBe(event);
  });

  it('never throws: when the SDK cannot be loaded, the payload is kept with decodeError', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('ably', () => {
        throw new Error('module not found');
      });
      const isolated = await import('../../../lambdas/providers/ably/ably-prepare');
      const event = messageEvent('{"a":1}', 'json');
      const record = JSON.parse((await isolated.prepareAblyEvent(event, ablySource)).body) as Record<string, unknown>;
      expect(record).toMatchObject({ data: '{"a":1}', encoding: 'json', decodeError: 'the ably SDK could not be loaded: module not found' });
    });
  });
});
