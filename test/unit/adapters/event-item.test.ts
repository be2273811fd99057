/** The events item shape: what is packed into `content`, what stays an attribute, and that old shapes still read. */
import { contentAttributes, fromItem, statusDayOf } from '../../../lambdas/adapters/dynamodb/event-item';
import { itemSize } from '../../../bench/aws-cost/dynamodb-units';
import type { StoredEvent } from '../../../lambdas/core/events/inbound-event';

const event: StoredEvent = {
  id: 'evt_0123456789abcdef0123456789abcdef',
  source: 'demo',
  providerEventId: 'msg_2Lx9f3kQ8',
  type: 'payment_intent.succeeded',
  channel: 'demo',
  receivedAt: '2026-11-23T10:00:00.000Z',
  requestId: 'Xq1fGg7rIAMEV0A=',
  headers: JSON.parse('{"content-type":"application/json","constructor":"c","__proto__":"p"}') as Record<string, string>,
  body: JSON.stringify({ type: 'payment_intent.succeeded', data: { amount: 4200, note: 'ünïcødé\u0000\uffff' } }),
  payloadFormat: 'json',
  status: 'processed',
  attempts: 1,
  duplicates: 0,
  ownerMessageId: '5e0f2b8c-7c1a-4f57-9d0e-3b9f6a1c2d4e',
  ownerReceiveCount: 1,
  storedAt: '2026-11-23T10:00:01.000Z',
  processedAt: '2026-11-23T10:00:01.000Z',
  expiresAt: 1_797_000_000,
};

/** The item the conditional write leaves for a new event. */
const itemOf = (stored: StoredEvent): Record<string, unknown> => ({
  id: stored.id,
  ...contentAttributes(stored),
  status: stored.status,
  attempts: stored.attempts,
  processedAt: stored.processedAt,
  ownerMessageId: stored.ownerMessageId,
  ownerReceiveCount: stored.ownerReceiveCount,
});

describe('event item', () => {
  it('packs headers, body and labels into one binary attribute and reads them back exactly', () => {
    const item = itemOf(event);
    expect(item.content).toBeInstanceOf(Uint8Array);
    expect(Object.keys(item)).not.toEqual(expect.arrayContaining(['body', 'headers', 'type', 'channel']));
    expect(item).toMatchObject({ source: 'demo', day: '2026-11-23', receivedAtId: `${event.receivedAt}#${event.id}` });
    const read = fromItem(item);
    expect({ ...read, headers: Object.entries(read.headers).sort() }).toEqual({ ...event, headers: Object.entries(event.headers).sort() });
  });

  it('keeps a base64 body byte for byte', () => {
    const binary = { ...event, payloadFormat: 'base64' as const, body: Buffer.from([0, 255, 254, 10, 13]).toString('base64') };
    expect(fromItem(itemOf(binary)).body).toBe(binary.body);
  });

  it('fits a 1 KiB JSON webhook with its headers in one 1 KB write unit', () => {
    const words = Array.from({ length: 200 }, (_, index) => ['order', 'renewal', 'invoice', 'customer'][index % 4]).join(' ');
    const body = JSON.stringify({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', type: 'invoice.paid', data: { object: { description: words } } }).slice(0, 1024);
    const headers = { 'content-type': 'application/json', 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)', 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1790000000' };
    expect(itemSize(itemOf({ ...event, body, headers }))).toBeLessThanOrEqual(1024);
  });

  it('reads items of the previous shape, whose body and headers are attributes', () => {
    const legacy = { ...event, headers: [['x-github-event', 'push']], day: '2026-11-23', sourceDay: 'demo#2026-11-23', statusDay: 'processed#2026-11-23', receivedAtId: 'x' };
    expect(fromItem(legacy)).toEqual({ ...event, headers: { 'x-github-event': 'push' } });
  });

  it('keeps processed events out of the status index', () => {
    expect(statusDayOf('processed', event.receivedAt)).toBeUndefined();
    expect(statusDayOf('failed', event.receivedAt)).toBe('failed#2026-11-23');
  });
});
