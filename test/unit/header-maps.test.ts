/** Header and query maps: no name a client can send (`__proto__`, `constructor`, ...) is special anywhere. */
import { normalizeHeaders } from '../../lambdas/core/verification/header-map';
import { nameValueMapOf } from '../../lambdas/core/name-value-map';
import { decodeQueuedEvent, encodeQueuedEvent } from '../../lambdas/core/events/queued-event-codec';
import { acceptInbound } from '../../lambdas/core/events/accept-inbound';
import { contentHashId } from '../../lambdas/core/events/event-id';
import { queuedEvent } from '../fixtures/events';
import { source } from '../fixtures/sources';

/** Headers as API Gateway hands them to a Lambda: a JSON document, so `__proto__` is an ordinary own key. */
const awsHeaders = JSON.parse('{"__proto__":"p","Constructor":"c","toString":"t","hasOwnProperty":"h","x-a":"1"}') as Record<string, string>;
const ownEntries = (map: object) => Object.entries(map).sort();

describe('header and query maps', () => {
  it('keep every name as an own entry and read absent names as undefined', () => {
    const headers = normalizeHeaders(awsHeaders);
    expect(ownEntries(headers)).toEqual([['__proto__', 'p'], ['constructor', 'c'], ['hasownproperty', 'h'], ['tostring', 't'], ['x-a', '1']]);
    const none = normalizeHeaders({});
    expect([none['constructor'], none['__proto__'], none['tostring']]).toEqual([undefined, undefined, undefined]);
    expect(ownEntries(nameValueMapOf(new URLSearchParams('constructor=a&constructor=b&__proto__=c')))).toEqual([['__proto__', 'c'], ['constructor', 'a,b']]);
  });

  it('a configured id header the request lacks is absent, even when it is named constructor', async () => {
    const crm = source({ id: 'crm', verification: { scheme: 'none' }, insecure: true, eventId: { header: 'constructor' } });
    const rawBody = Buffer.from('{"a":1}');
    const [event] = await acceptInbound({
      source: crm,
      request: { method: 'POST', headers: normalizeHeaders({ 'content-type': 'application/json' }), rawBody, receivedAt: new Date(), requestId: 'r' },
      loadSecrets: async () => [],
      maxBodyBytes: 1024,
    });
    expect(event!.providerEventId).toBe(contentHashId(rawBody));
  });

  it('keeps every header through acceptInbound and the queued message, __proto__ included', async () => {
    const open = source({ id: 'open', verification: { scheme: 'none' }, insecure: true });
    const [event] = await acceptInbound({
      source: open,
      request: { method: 'POST', headers: normalizeHeaders(awsHeaders), rawBody: Buffer.from('{}'), receivedAt: new Date(), requestId: 'r' },
      loadSecrets: async () => [],
      maxBodyBytes: 1024,
    });
    expect(ownEntries(event!.headers)).toEqual(ownEntries(normalizeHeaders(awsHeaders)));

    const message = encodeQueuedEvent({ ...queuedEvent(), headers: event!.headers });
    expect(message).toContain('"__proto__":"p"');
    expect(ownEntries(decodeQueuedEvent(message).headers)).toEqual(ownEntries(event!.headers));
    expect(() => decodeQueuedEvent(JSON.stringify({ ...queuedEvent(), version: 2, headers: { a: 1 } }))).toThrow('bad fields: headers');
  });
});
