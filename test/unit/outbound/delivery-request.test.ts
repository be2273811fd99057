import { randomBytes } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { buildDeliveryRequest, requestHeadersForLog } from '../../../lambdas/core/outbound/delivery-request';

// The canonical vector of the Standard Webhooks reference libraries (docs: /work/shared/reference/outbound.md).
const CANONICAL = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

function request(overrides: Partial<Parameters<typeof buildDeliveryRequest>[0]> = {}) {
  return buildDeliveryRequest({
    url: 'https://receiver.example/hooks',
    messageId: 'msg_01KBFHZ6Y0M5QK6WD3V3ZB4N1J',
    timestampSeconds: nowSeconds(),
    payload: JSON.stringify({ type: 'project.created', data: { id: 42, name: 'héllo' } }),
    secrets: [newSecret()],
    customHeaders: {},
    timeoutMs: 15_000,
    ...overrides,
  });
}

describe('buildDeliveryRequest', () => {
  it('signs the canonical vector as the reference libraries do', () => {
    const built = request({
      messageId: CANONICAL.id,
      timestampSeconds: CANONICAL.timestamp,
      payload: CANONICAL.payload,
      secrets: [CANONICAL.secret],
    });
    expect(built.headers['webhook-signature']).toBe(CANONICAL.signature);
    expect(built.headers['webhook-id']).toBe(CANONICAL.id);
    expect(built.headers['webhook-timestamp']).toBe(String(CANONICAL.timestamp));
    expect(built.body).toBe(CANONICAL.payload);
    const withoutPrefix = request({
      messageId: CANONICAL.id,
      timestampSeconds: CANONICAL.timestamp,
      payload: CANONICAL.payload,
      secrets: [CANONICAL.secret.slice('whsec_'.length)],
    });
    expect(withoutPrefix.headers['webhook-signature']).toBe(CANONICAL.signature);
  });

  it('sends the payload as it is, with hookhub headers, the URL and the timeout', () => {
    const built = request({ payload: '{"a": 1}', timeoutMs: 20_000 });
    expect(built).toMatchObject({ url: 'https://receiver.example/hooks', body: '{"a": 1}', timeoutMs: 20_000 });
    expect(built.headers['content-type']).toBe('application/json');
    expect(built.headers['user-agent']).toBe('hookhub-webhooks/1.0');
    expect(Object.keys(built.headers).sort()).toEqual(
      ['content-type', 'user-agent', 'webhook-id', 'webhook-signature', 'webhook-timestamp'].sort(),
    );
  });

  it('is verified by the standardwebhooks package', () => {
    const secret = newSecret();
    const built = request({ secrets: [secret] });
    expect(new StandardWebhook(secret).verify(built.body, built.headers)).toEqual(JSON.parse(built.body));
    expect(() => new StandardWebhook(newSecret()).verify(built.body, built.headers)).toThrow();
    expect(() => new StandardWebhook(secret).verify(built.body.replace('42', '43'), built.headers)).toThrow();
  });

  it('is verified by svix', () => {
    const secret = newSecret();
    const built = request({ secrets: [secret] });
    expect(new SvixWebhook(secret).verify(built.body, built.headers)).toEqual(JSON.parse(built.body));
    expect(() => new SvixWebhook(newSecret()).verify(built.body, built.headers)).toThrow();
  });

  it('signs with every active secret during rotation; each one verifies alone', () => {
    const current = newSecret();
    const previous = newSecret();
    const built = request({ secrets: [current, previous] });
    const entries = built.headers['webhook-signature']!.split(' ');
    expect(entries).toHaveLength(2);
    expect(entries.every((entry) => /^v1,[A-Za-z0-9+/]{43}=$/.test(entry))).toBe(true);
    for (const secret of [current, previous]) {
      expect(() => new StandardWebhook(secret).verify(built.body, built.headers)).not.toThrow();
      expect(() => new SvixWebhook(secret).verify(built.body, built.headers)).not.toThrow();
    }
    expect(() => new StandardWebhook(newSecret()).verify(built.body, built.headers)).toThrow();
  });

  it('adds the custom headers with lower-case names, without overriding its own', () => {
    const built = request({ customHeaders: { Authorization: 'Bearer t0ken', 'X-Tenant': 'acme', 'Content-Type': 'text/plain' } });
    expect(built.headers['authorization']).toBe('Bearer t0ken');
    expect(built.headers['x-tenant']).toBe('acme');
    expect(built.headers['content-type']).toBe('application/json');
    expect(built.headers['Authorization']).toBeUndefined();
  });

  it('keeps a custom header named like an Object.prototype member', () => {
    const customHeaders = JSON.parse('{"__proto__": "a", "constructor": "b"}') as Record<string, string>;
    const built = request({ customHeaders });
    expect(Object.entries(built.headers)).toEqual(expect.arrayContaining([['__proto__', 'a'], ['constructor', 'b']]));
  });

  it('refuses to build an unsigned request', () => {
    expect(() => request({ secrets: [] })).toThrow(/no active secret/);
  });
});

describe('requestHeadersForLog', () => {
  it('redacts the custom header values and keeps the rest, signature included', () => {
    const built = request({ customHeaders: { Authorization: 'Bearer t0ken', 'X-Tenant': 'acme' } });
    const logged = requestHeadersForLog(built.headers, ['Authorization', 'X-Tenant']);
    expect(logged['authorization']).toBe('[redacted]');
    expect(logged['x-tenant']).toBe('[redacted]');
    expect(logged['webhook-signature']).toBe(built.headers['webhook-signature']);
    expect(logged['content-type']).toBe('application/json');
    expect(JSON.stringify(logged)).not.toContain('t0ken');
    expect(built.headers['authorization']).toBe('Bearer t0ken');
  });
});
