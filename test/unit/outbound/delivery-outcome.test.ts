import { classifyDelivery } from '../../../lambdas/core/outbound/delivery-outcome';
import type { SendResult } from '../../../lambdas/core/outbound/outbound-ports';

const NOW = Date.UTC(2015, 9, 21, 7, 28, 0);

function response(status: number, headers: Record<string, string> = {}): SendResult {
  return { kind: 'response', status, headers, body: '', durationMs: 12 };
}

describe('classifyDelivery', () => {
  it.each([200, 201, 202, 204, 299])('counts HTTP %i as a success', (status) => {
    expect(classifyDelivery(response(status), NOW)).toEqual({ outcome: 'success' });
  });

  it('disables the endpoint on 410 Gone', () => {
    expect(classifyDelivery(response(410), NOW)).toEqual({ outcome: 'disable', reason: 'gone' });
  });

  it.each([429, 502, 503, 504])('retries HTTP %i when the server asks, in seconds or as a date', (status) => {
    expect(classifyDelivery(response(status, { 'retry-after': '90' }), NOW)).toEqual({
      outcome: 'retry',
      reason: `HTTP ${status}`,
      retryAfterSeconds: 90,
    });
    expect(classifyDelivery(response(status, { 'retry-after': 'Wed, 21 Oct 2015 07:30:00 GMT' }), NOW)).toMatchObject({
      retryAfterSeconds: 120,
    });
  });

  it('leaves retryAfterSeconds out when the header is missing or unreadable', () => {
    expect(classifyDelivery(response(429), NOW)).toEqual({ outcome: 'retry', reason: 'HTTP 429' });
    expect(classifyDelivery(response(429, { 'retry-after': 'later' }), NOW)).toEqual({ outcome: 'retry', reason: 'HTTP 429' });
  });

  it('ignores Retry-After on other failures', () => {
    expect(classifyDelivery(response(500, { 'retry-after': '90' }), NOW)).toEqual({ outcome: 'retry', reason: 'HTTP 500' });
  });

  it.each([301, 302, 307, 308])('retries HTTP %i as a redirect that is not followed', (status) => {
    const outcome = classifyDelivery(response(status, { location: 'https://elsewhere.example/' }), NOW);
    expect(outcome).toMatchObject({ outcome: 'retry' });
    expect(outcome.outcome === 'retry' && outcome.reason).toMatch(new RegExp(`^HTTP ${status}: a redirect, which is not followed`));
  });

  it.each([400, 401, 404, 413, 500])('retries other statuses as HTTP %i', (status) => {
    expect(classifyDelivery(response(status), NOW)).toEqual({ outcome: 'retry', reason: `HTTP ${status}` });
  });

  it('retries network errors and send-time refusals with their text', () => {
    const timeout: SendResult = { kind: 'error', error: 'timed out after 15000 ms', timedOut: true, refused: false, durationMs: 15000 };
    const refused: SendResult = {
      kind: 'error',
      error: 'refused: hooks.example.com resolves to 10.0.0.5, a private address',
      timedOut: false,
      refused: true,
      durationMs: 3,
    };
    expect(classifyDelivery(timeout, NOW)).toEqual({ outcome: 'retry', reason: 'timed out after 15000 ms' });
    expect(classifyDelivery(refused, NOW)).toEqual({ outcome: 'retry', reason: refused.error });
  });
});
