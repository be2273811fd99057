/**
 * The local HTTP API's edges over real HTTP on loopback: the exact request bytes reach verification, every refusal
 * (unknown route, wrong method, forged cursor, signed-but-invalid body) has the `{error, message}` shape.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign as signGitHub } from '@octokit/webhooks-methods';
import type { LocalRuntime } from '../../lib/local/local-runtime';
import { startTestRuntime } from '../fixtures/test-runtime';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { apiClient, waitUntil } from '../fixtures/local-clients';

const ADMIN_KEY = 'http-api-admin-key-0123456789';
const SECRET = 'http-api-hmac-secret';
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-http-api-'));
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  process.env.HOOKHUB_IT_HTTP_SECRET = SECRET;
  const hmac = { scheme: 'hmac', header: 'X-Hub-Signature-256', prefix: 'sha256=' };
  const config = parseHookhubConfig({
    sources: [
      { id: 'json', verification: hmac, secret: { env: 'HOOKHUB_IT_HTTP_SECRET' } },
      { id: 'raw', verification: hmac, secret: { env: 'HOOKHUB_IT_HTTP_SECRET' }, contentType: 'any' },
    ],
  });
  runtime = await startTestRuntime({ config, dataDir, adminKey: ADMIN_KEY });
  api = apiClient(runtime.httpUrl, ADMIN_KEY);
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** GitHub's scheme (HMAC-SHA256 of the raw body, hex) over bytes; checked against @octokit's signer below. */
const signBytes = (body: Buffer) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

async function send(path: string, init: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${runtime.httpUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, allow: response.headers.get('allow'), contentType: response.headers.get('content-type'), body: JSON.parse(text) as Record<string, unknown> };
}

const errorShape = (error: string) => ({ error, message: expect.any(String) });

describe('exact bytes', () => {
  // `{"note":"` + a lone 0xFF byte + `"}`: not UTF-8, so not JSON either (RFC 8259 requires UTF-8).
  const invalidUtf8 = Buffer.concat([Buffer.from('{"note":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);

  it('signs bytes the way @octokit signs text, so the fixture signer is independent but right', async () => {
    const text = '{"note":"héllo"}';
    expect(signBytes(Buffer.from(text))).toBe(await signGitHub(SECRET, text));
  });

  it.each(['application/json', 'text/plain; charset=utf-8'])(
    'verifies a signed body of invalid UTF-8 (%s) over its exact bytes, then refuses it as 400 on a JSON source',
    async (contentType) => {
      const response = await send('/hooks/json', { method: 'POST', body: invalidUtf8, headers: { 'content-type': contentType, 'x-hub-signature-256': signBytes(invalidUtf8) } });
      expect(response).toMatchObject({ status: 400, body: errorShape('malformed_payload') });
      expect(response.body.message).toMatch(/UTF-8/);
    },
  );

  it('checks the signature first: the same bytes with a wrong signature are a 401', async () => {
    const response = await send('/hooks/json', {
      method: 'POST',
      body: invalidUtf8,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBytes(Buffer.from('other')) },
    });
    expect(response).toMatchObject({ status: 401, body: errorShape('invalid_signature') });
  });

  it('accepts signed arbitrary bytes sent as text on a source that takes any content, and stores them unchanged', async () => {
    const bytes = Buffer.from([0x00, 0xc3, 0x28, 0xff, 0x41, 0xed, 0xa0, 0x80, 0x0a]);
    const response = await send('/hooks/raw', { method: 'POST', body: bytes, headers: { 'content-type': 'text/plain', 'x-hub-signature-256': signBytes(bytes) } });
    expect(response.status).toBe(202);
    const id = (response.body.ids as string[])[0]!;
    const stored = await waitUntil(async () => {
      const { status, body } = await api<{ payloadFormat: string; payload: unknown }>(`/api/events/${id}`);
      return status === 200 && body;
    }, 10_000, 'the stored event');
    expect(stored).toMatchObject({ payloadFormat: 'base64', payload: bytes.toString('base64') });
  });
});

describe('unknown routes and methods', () => {
  it.each([
    ['GET', '/', 404, 'not_found', null],
    ['GET', '/api/nothing-here', 404, 'not_found', null],
    ['POST', '/hooks', 404, 'not_found', null],
    ['POST', '/api/events', 405, 'method_not_allowed', 'GET'],
    ['DELETE', '/health', 405, 'method_not_allowed', 'GET'],
    ['DELETE', '/hooks/json', 405, 'method_not_allowed', 'POST'],
    ['DELETE', '/hooks/x', 404, 'unknown_source', null],
  ])('%s %s → %i %s', async (method, path, status, error, allow) => {
    const response = await send(path, { method });
    expect(response).toMatchObject({ status, allow, contentType: 'application/json', body: errorShape(error) });
  });
});

describe('read API cursors', () => {
  const encode = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

  it('pages with a real cursor and refuses forged ones with 400 {error, message}', async () => {
    const ids: string[] = [];
    for (const index of [1, 2, 3]) {
      const body = Buffer.from(JSON.stringify({ page: index }));
      const response = await send('/hooks/json', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBytes(body) } });
      ids.push((response.body.ids as string[])[0]!);
    }
    const listed = () => api<{ events: Array<{ id: string }>; cursor: string | null }>('/api/events?source=json&limit=100');
    await waitUntil(async () => {
      const { body } = await listed();
      return ids.every((id) => body.events.some((event) => event.id === id));
    }, 10_000, 'the events listed');

    const seen: string[] = [];
    let cursor: string | null = null;
    let realCursor: string | undefined;
    do {
      const page: { status: number; body: { events: Array<{ id: string }>; cursor: string | null } } = await api(
        `/api/events?source=json&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.events.map((event) => event.id));
      cursor = page.body.cursor;
      if (page.body.events.length > 0 && cursor) realCursor ??= cursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(new Set(seen).size).toBe(seen.length);

    const real = JSON.parse(Buffer.from(realCursor!, 'base64url').toString()) as { query: string; day: string; key: Record<string, string> };
    const forged: Array<[string, string]> = [
      ['attribute of another index', encode({ ...real, key: { id: real.key.id, statusDay: `failed#${real.day}`, receivedAtId: real.key.receivedAtId } })],
      ['extra attribute', encode({ ...real, key: { ...real.key, status: 'failed' } })],
      ['missing attribute', encode({ ...real, key: { id: real.key.id } })],
      ['number instead of string', encode({ ...real, key: { ...real.key, receivedAtId: 1 } })],
      ['huge string', encode({ ...real, key: { ...real.key, receivedAtId: `${real.key.receivedAtId}${'x'.repeat(3_000)}` } })],
      ['not JSON', Buffer.from('{"query":').toString('base64url')],
      ['not base64url', 'a+b/c=='],
      ['another status filter', encode({ ...real, query: 'byDay|json|failed' })],
    ];
    for (const [name, value] of forged) {
      const response = await api(`/api/events?source=json&limit=1&cursor=${encodeURIComponent(value)}`);
      expect({ name, status: response.status, body: response.body }).toEqual({ name, status: 400, body: errorShape('bad_request') });
    }
    // A real cursor used with another filter is refused the same way.
    expect((await api(`/api/events?status=processed&cursor=${realCursor}`)).status).toBe(400);
  });
});
