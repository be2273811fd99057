import {
  activeSecrets,
  generateEndpointSecret,
  parseEndpointCreate,
  parseEndpointPatch,
  toPublicEndpoint,
} from '../../../lambdas/core/outbound/endpoint-input';
import { BadRequestError } from '../../../lambdas/core/errors';
import type { Endpoint } from '../../../lambdas/core/outbound/outbound-model';

const URL = 'https://receiver.example/hooks';
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

/** The BadRequestError message a parse throws (fails the test if it does not throw one). */
function problemOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    if (error instanceof BadRequestError) return error.message;
    throw error;
  }
  throw new Error('expected a BadRequestError');
}

const createProblem = (body: unknown) => problemOf(() => parseEndpointCreate(body));
const patchProblem = (body: unknown) => problemOf(() => parseEndpointPatch(body));

describe('parseEndpointCreate', () => {
  it('fills in the defaults', () => {
    const settings = parseEndpointCreate({ url: URL });
    expect(settings).toEqual({
      url: URL,
      description: '',
      eventTypes: [],
      sources: [],
      headers: {},
      failureThreshold: 5,
      disabled: false,
    });
    expect(Object.keys(settings)).not.toContain('rateLimitPerSecond');
    expect(Object.keys(settings)).not.toContain('retrySchedule');
  });

  it('does not share default arrays between endpoints', () => {
    const first = parseEndpointCreate({ url: URL });
    first.eventTypes.push('a.b');
    expect(parseEndpointCreate({ url: URL }).eventTypes).toEqual([]);
  });

  it('keeps every setting given', () => {
    const body = {
      url: 'http://receiver.example:8080/hooks?tenant=acme',
      description: 'ACME production',
      eventTypes: ['*', 'project.created', 'ably.*', 'a-b.c_d.*'],
      sources: ['app', 'stripe', 'github-main'],
      headers: { Authorization: 'Bearer t0ken', 'X-Tenant': 'acme' },
      rateLimitPerSecond: 10_000,
      retrySchedule: [1, 86_400],
      failureThreshold: 1000,
      disabled: true,
    };
    expect(parseEndpointCreate(body)).toEqual({ ...body, headers: { authorization: 'Bearer t0ken', 'x-tenant': 'acme' } });
  });

  it('answers 400 naming the field and the problem', () => {
    let thrown: unknown;
    try {
      parseEndpointCreate({ url: 'ftp://receiver.example/' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadRequestError);
    expect((thrown as BadRequestError).statusCode).toBe(400);
    expect((thrown as BadRequestError).message).toBe('url: must be an absolute http or https URL');
  });

  it.each([
    [null, 'body: must be a JSON object'],
    [[], 'body: must be a JSON object'],
    ['https://receiver.example', 'body: must be a JSON object'],
    [{}, 'url: is required'],
    [{ url: 42 }, 'url: must be an absolute http or https URL'],
    [{ url: URL, colour: 'red' }, 'colour: is not a known field'],
  ])('refuses %p', (body, problem) => {
    expect(createProblem(body)).toBe(problem);
  });

  describe('url', () => {
    it.each([
      ['a relative URL', '/hooks', 'must be an absolute http or https URL'],
      ['another scheme', 'ftp://receiver.example/', 'must be an absolute http or https URL'],
      ['a scheme without slashes', 'http:receiver.example', 'must be an absolute http or https URL'],
      ['no host', 'https://', 'must be an absolute http or https URL'],
      ['a password', 'https://user:secret@receiver.example/', 'must not contain a user name or password'],
      ['a user name', 'https://user@receiver.example/', 'must not contain a user name or password'],
      ['a space', 'https://receiver.example/a b', 'must not contain spaces or control characters'],
      ['a newline', 'https://receiver.example/\n', 'must not contain spaces or control characters'],
      ['2049 characters', `https://receiver.example/${'a'.repeat(2049 - 25)}`, 'must be at most 2048 characters'],
    ])('refuses %s', (_case, url, problem) => {
      expect(createProblem({ url })).toContain(`url: ${problem}`);
    });

    it('takes 2048 characters and either scheme in any case', () => {
      const long = `https://receiver.example/${'a'.repeat(2048 - 25)}`;
      expect(long).toHaveLength(2048);
      expect(parseEndpointCreate({ url: long }).url).toBe(long);
      expect(parseEndpointCreate({ url: 'HTTPS://receiver.example/' }).url).toBe('HTTPS://receiver.example/');
    });
  });

  it('limits the description to 500 characters', () => {
    expect(parseEndpointCreate({ url: URL, description: 'd'.repeat(500) }).description).toHaveLength(500);
    expect(createProblem({ url: URL, description: 'd'.repeat(501) })).toBe('description: must be at most 500 characters');
  });

  describe('eventTypes', () => {
    it.each(['a.', '.a', 'a..b', 'a.*.b', '*.a', 'a*', 'a.b*', 'a b', 'a.é', ''])('refuses the pattern %p', (pattern) => {
      expect(createProblem({ url: URL, eventTypes: ['ok.type', pattern] })).toMatch(/^eventTypes\.1: must be `\*`, an event type/);
    });

    it('accepts a plain one-segment type', () => {
      expect(parseEndpointCreate({ url: URL, eventTypes: ['ping'] }).eventTypes).toEqual(['ping']);
    });

    it('limits a pattern to 200 characters and the list to 100', () => {
      const pattern200 = `a.${'b'.repeat(198)}`;
      expect(parseEndpointCreate({ url: URL, eventTypes: [pattern200] }).eventTypes).toEqual([pattern200]);
      expect(createProblem({ url: URL, eventTypes: [`${pattern200}c`] })).toBe('eventTypes.0: must be at most 200 characters');
      expect(parseEndpointCreate({ url: URL, eventTypes: Array<string>(100).fill('a.b') }).eventTypes).toHaveLength(100);
      expect(createProblem({ url: URL, eventTypes: Array<string>(101).fill('a.b') })).toBe('eventTypes: must list at most 100 patterns');
    });

    it('refuses a non-array and non-string entries', () => {
      expect(createProblem({ url: URL, eventTypes: 'a.b' })).toBe('eventTypes: must be an array of event type patterns');
      expect(createProblem({ url: URL, eventTypes: [7] })).toBe('eventTypes.0: must be an event type pattern (a string)');
    });
  });

  describe('sources', () => {
    it('takes source ids up to 64 characters and 50 of them', () => {
      const id64 = `s${'a'.repeat(63)}`;
      expect(parseEndpointCreate({ url: URL, sources: ['app', 'hookhub', '0x', id64] }).sources).toEqual(['app', 'hookhub', '0x', id64]);
      expect(parseEndpointCreate({ url: URL, sources: Array<string>(50).fill('app') }).sources).toHaveLength(50);
      expect(createProblem({ url: URL, sources: Array<string>(51).fill('app') })).toBe('sources: must list at most 50 sources');
    });

    it.each(['Stripe', '-stripe', '_x', 'a.b', '', `s${'a'.repeat(64)}`])('refuses %p', (id) => {
      expect(createProblem({ url: URL, sources: [id] })).toMatch(/^sources\.0: must be a source id/);
    });
  });

  describe('headers', () => {
    it('lower-cases the names and keeps the values', () => {
      expect(parseEndpointCreate({ url: URL, headers: { 'X-Api-Key': 'k1', "x-odd!#$%&'*+.^_`|~": '' } }).headers).toEqual({
        'x-api-key': 'k1',
        "x-odd!#$%&'*+.^_`|~": '',
      });
    });

    it.each([
      'Host',
      'content-length',
      'Content-Type',
      'User-Agent',
      'connection',
      'Transfer-Encoding',
      'webhook-id',
      'Webhook-Signature',
      'webhook-timestamp',
      'webhook-anything',
    ])("refuses hookhub's own header %s", (name) => {
      expect(createProblem({ url: URL, headers: { [name]: 'x' } })).toBe(`headers.${name}: is set by hookhub and cannot be overridden`);
    });

    it.each(['X Name', 'x:name', 'x-naïve', 'x/y', ''])('refuses the header name %p', (name) => {
      expect(createProblem({ url: URL, headers: { [name]: 'x' } })).toBe(`headers.${name}: is not a valid HTTP header name`);
    });

    it.each([
      ['a CR', 'a\rb'],
      ['an LF', 'a\nb'],
      ['a NUL', 'a\0b'],
      ['another control character', 'a\x07b'],
      ['a character beyond Latin-1', 'a\u2028b'],
    ])('refuses a value with %s', (_case, value) => {
      expect(createProblem({ url: URL, headers: { 'X-A': value } })).toBe(
        'headers.X-A: must not contain CR, LF, NUL, other control characters or characters beyond Latin-1',
      );
    });

    it('takes tabs and Latin-1 in values, up to 1024 characters', () => {
      expect(parseEndpointCreate({ url: URL, headers: { 'X-A': 'a\tb é' } }).headers).toEqual({ 'x-a': 'a\tb é' });
      expect(parseEndpointCreate({ url: URL, headers: { 'X-A': 'v'.repeat(1024) } }).headers['x-a']).toHaveLength(1024);
      expect(createProblem({ url: URL, headers: { 'X-A': 'v'.repeat(1025) } })).toBe('headers.X-A: must be at most 1024 characters');
    });

    it('refuses a non-string value, a non-object, more than 20 headers, and a name given twice', () => {
      expect(createProblem({ url: URL, headers: { 'X-A': 1 } })).toBe('headers.X-A: must be a string');
      expect(createProblem({ url: URL, headers: ['X-A'] })).toBe('headers: must be an object of header names to values');
      const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`x-h${index}`, 'v']));
      expect(Object.keys(parseEndpointCreate({ url: URL, headers: twenty }).headers)).toHaveLength(20);
      expect(createProblem({ url: URL, headers: { ...twenty, 'x-h20': 'v' } })).toBe('headers: must hold at most 20 headers');
      expect(createProblem({ url: URL, headers: { 'X-A': '1', 'x-a': '2' } })).toBe(
        'headers.x-a: names the same header as X-A (case does not count)',
      );
    });

    it('reports `__proto__` instead of dropping it, and keeps `constructor` as an ordinary name', () => {
      const withProto = JSON.parse(`{"url": "${URL}", "headers": {"__proto__": "x"}}`) as unknown;
      expect(createProblem(withProto)).toBe('headers.__proto__: cannot be used as a header name');
      const headers = parseEndpointCreate({ url: URL, headers: { constructor: 'c', toString: 't' } }).headers;
      expect(Object.entries(headers)).toEqual([
        ['constructor', 'c'],
        ['tostring', 't'],
      ]);
      expect(parseEndpointCreate({ url: URL }).headers['constructor']).toBeUndefined();
    });
  });

  it.each([
    ['rateLimitPerSecond', 0, 'must be an integer from 1 to 10000'],
    ['rateLimitPerSecond', 10_001, 'must be an integer from 1 to 10000'],
    ['rateLimitPerSecond', 1.5, 'must be an integer from 1 to 10000'],
    ['rateLimitPerSecond', '5', 'must be an integer from 1 to 10000'],
    ['failureThreshold', 0, 'must be an integer from 1 to 1000'],
    ['failureThreshold', 1001, 'must be an integer from 1 to 1000'],
    ['retrySchedule', [], 'must list 1 to 20 delays in seconds'],
    ['retrySchedule', Array<number>(21).fill(5), 'must list 1 to 20 delays in seconds'],
    ['retrySchedule', 5, 'must list 1 to 20 delays in seconds'],
    ['disabled', 'false', 'must be true or false'],
  ])('refuses %s = %p', (field, value, problem) => {
    expect(createProblem({ url: URL, [field]: value })).toBe(`${field}: ${problem}`);
  });

  it('checks each retry delay from 1 s to a day', () => {
    expect(parseEndpointCreate({ url: URL, retrySchedule: Array<number>(20).fill(86_400) }).retrySchedule).toHaveLength(20);
    expect(createProblem({ url: URL, retrySchedule: [5, 0, 86_401] })).toBe(
      'retrySchedule.1: must be an integer from 1 to 86400; retrySchedule.2: must be an integer from 1 to 86400',
    );
  });

  it('lists several problems in one answer, at most ten', () => {
    expect(createProblem({ url: 'nope', description: 1, extra: true })).toBe(
      'url: must be an absolute http or https URL; description: must be a string; extra: is not a known field',
    );
    const problem = createProblem({ url: URL, eventTypes: Array<string>(30).fill('a..b') });
    expect(problem.split('; ')).toHaveLength(11);
    expect(problem).toMatch(/; … and 20 more$/);
  });
});

describe('parseEndpointPatch', () => {
  it('returns only the keys given, without defaults', () => {
    expect(parseEndpointPatch({ description: 'new' })).toEqual({ description: 'new' });
    expect(Object.keys(parseEndpointPatch({ disabled: false }))).toEqual(['disabled']);
  });

  it('turns null into a removal: the key present with the value undefined', () => {
    const changes = parseEndpointPatch({ rateLimitPerSecond: null, retrySchedule: null });
    expect(Object.keys(changes).sort()).toEqual(['rateLimitPerSecond', 'retrySchedule']);
    expect(changes.rateLimitPerSecond).toBeUndefined();
    expect(changes.retrySchedule).toBeUndefined();
    expect(parseEndpointPatch({ rateLimitPerSecond: 20 })).toEqual({ rateLimitPerSecond: 20 });
  });

  it('checks what it is given by the same rules', () => {
    expect(patchProblem({ url: 'https://u:p@receiver.example' })).toMatch(/^url: must not contain a user name or password/);
    expect(patchProblem({ headers: { 'webhook-id': 'x' } })).toBe('headers.webhook-id: is set by hookhub and cannot be overridden');
    expect(patchProblem({ retrySchedule: [] })).toBe('retrySchedule: must list 1 to 20 delays in seconds');
    expect(parseEndpointPatch({ headers: { 'X-A': 'v' } })).toEqual({ headers: { 'x-a': 'v' } });
  });

  it('refuses null for a setting that cannot be removed', () => {
    expect(patchProblem({ url: null })).toBe('url: must be an absolute http or https URL');
    expect(patchProblem({ failureThreshold: null })).toBe('failureThreshold: must be an integer from 1 to 1000');
  });

  it('refuses an empty patch, unknown keys and a non-object', () => {
    expect(patchProblem({})).toMatch(/^body: the patch changes nothing/);
    expect(patchProblem({ secrets: [] })).toBe('secrets: is not a known field');
    expect(patchProblem({ id: 'ep_x', description: 'd' })).toBe('id: is not a known field');
    expect(patchProblem(null)).toBe('body: must be a JSON object');
  });
});

describe('toPublicEndpoint', () => {
  const endpoint: Endpoint = {
    id: 'ep_01KBFHZ6Y0M5QK6WD3V3ZB4N1J',
    url: URL,
    description: 'ACME',
    eventTypes: ['project.*'],
    sources: ['app'],
    headers: { authorization: 'Bearer t0ken', 'x-tenant': 'acme' },
    rateLimitPerSecond: 5,
    retrySchedule: [5, 60],
    failureThreshold: 5,
    disabled: false,
    secrets: [
      { secret: 'whsec_Y3VycmVudGN1cnJlbnRjdXJyZW50Y3VycmVudA==', createdAt: '2026-12-02T11:00:00.000Z' },
      { secret: 'whsec_cHJldmlvdXNwcmV2aW91c3ByZXZpb3VzcHJldg==', createdAt: '2026-11-01T00:00:00.000Z', expiresAt: '2026-12-03T11:00:00.000Z' },
      { secret: 'whsec_b2xkZXN0b2xkZXN0b2xkZXN0b2xkZXN0b2xk', createdAt: '2026-10-01T00:00:00.000Z', expiresAt: '2026-12-02T18:00:00.000Z' },
    ],
    createdAt: '2026-10-01T00:00:00.000Z',
    updatedAt: '2026-12-02T11:00:00.000Z',
    consecutiveFailures: 0,
    lastSuccessAt: '2026-12-02T11:59:00.000Z',
  };

  it('never shows a secret, and hides custom header values', () => {
    const shown = toPublicEndpoint(endpoint, NOW);
    const json = JSON.stringify(shown);
    for (const { secret } of endpoint.secrets) expect(json).not.toContain(secret.slice('whsec_'.length, 20));
    expect(json).not.toContain('whsec_');
    expect(json).not.toContain('t0ken');
    expect(shown).not.toHaveProperty('secrets');
    expect(shown.headers).toEqual({ authorization: '[redacted]', 'x-tenant': '[redacted]' });
  });

  it('shows the settings and health as stored', () => {
    const { secrets: _secrets, headers: _headers, ...rest } = endpoint;
    expect(toPublicEndpoint(endpoint, NOW)).toMatchObject(rest);
  });

  it('does not show fields the model does not name', () => {
    const stored = { ...endpoint, expiresAt: 123, internalNote: 'x' } as Endpoint;
    expect(toPublicEndpoint(stored, NOW)).not.toHaveProperty('internalNote');
    expect(toPublicEndpoint(stored, NOW)).not.toHaveProperty('expiresAt');
  });

  it('tells when the last old secret stops signing, and nothing once none does', () => {
    expect(toPublicEndpoint(endpoint, NOW).secretRotation).toEqual({ previousSecretExpiresAt: '2026-12-03T11:00:00.000Z' });
    expect(toPublicEndpoint(endpoint, Date.parse('2026-12-03T11:00:00.000Z')).secretRotation).toEqual({});
    expect(toPublicEndpoint({ ...endpoint, secrets: endpoint.secrets.slice(0, 1) }, NOW).secretRotation).toEqual({});
  });
});

describe('endpoint secrets', () => {
  it('generates whsec_ + base64 of 32 random bytes, different each time', () => {
    const secret = generateEndpointSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateEndpointSecret()).not.toBe(secret);
  });

  it('signs with the current secret first, then the old ones until they expire', () => {
    const secrets = [
      { secret: 'current', createdAt: '2026-12-02T11:00:00.000Z' },
      { secret: 'previous', createdAt: '2026-11-01T00:00:00.000Z', expiresAt: '2026-12-03T11:00:00.000Z' },
      { secret: 'expired', createdAt: '2026-10-01T00:00:00.000Z', expiresAt: '2026-12-02T12:00:00.000Z' },
      { secret: 'no-expiry', createdAt: '2026-09-01T00:00:00.000Z' },
      { secret: 'unreadable-expiry', createdAt: '2026-09-01T00:00:00.000Z', expiresAt: 'tomorrow' },
    ];
    expect(activeSecrets({ secrets }, NOW)).toEqual(['current', 'previous']);
    expect(activeSecrets({ secrets }, NOW - 1)).toEqual(['current', 'previous', 'expired']);
    expect(activeSecrets({ secrets: [] }, NOW)).toEqual([]);
  });
});
