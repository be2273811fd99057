/**
 * The SSRF guard as an operator meets it: a runtime started without HOOKHUB_ALLOW_PRIVATE_TARGETS refuses, at
 * create and update time, every endpoint URL that points at a non-global address (and a name that resolves to one),
 * with a 400 naming the address; the guard's address classes are covered in test/unit/outbound-network.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import type { LocalRuntime } from '../../lib/local/local-runtime';
import { startTestRuntime } from '../fixtures/test-runtime';
import { managementClient } from '../fixtures/local-clients';
import { DEMO_SECRET } from '../fixtures/sources';

const ADMIN_KEY = 'outbound-ssrf-admin-key-0123456789';
let dataDir: string;
let runtime: LocalRuntime;
let api: ReturnType<typeof managementClient>;

beforeAll(async () => {
  process.env.HOOKHUB_DEMO_SECRET = DEMO_SECRET;
  dataDir = mkdtempSync(join(tmpdir(), 'hookhub-ssrf-'));
  runtime = await startTestRuntime({
    config: parseHookhubConfig({ sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_DEMO_SECRET' } }] }),
    dataDir,
    adminKey: ADMIN_KEY,
    outbound: { allowPrivateTargets: '' },
  });
  api = managementClient(runtime.httpUrl, ADMIN_KEY);
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it.each([
  ['http://127.0.0.1:9/hook', /127\.0\.0\.1/],
  ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254/],
  ['http://[::1]:9/hook', /::1/],
  ['http://[::ffff:127.0.0.1]:9/hook', /127\.0\.0\.1|::ffff/],
  ['http://10.1.2.3/hook', /10\.1\.2\.3/],
  ['http://localhost:9/hook', /localhost/],
])('refuses %s without the allow-list', async (url, named) => {
  const created = await api<{ error: string; message: string }>('POST', '/api/endpoints', { url });
  expect(created.status).toBe(400);
  expect(created.body.message).toMatch(named);
  expect(created.body.message).toMatch(/HOOKHUB_ALLOW_PRIVATE_TARGETS/);
});

it('refuses a private URL on update too, and keeps the endpoint as it was', async () => {
  const created = await api<{ id: string; url: string }>('POST', '/api/endpoints', { url: 'https://93.184.215.14/hook' });
  expect(created.status).toBe(201);
  const changed = await api('PATCH', `/api/endpoints/${created.body.id}`, { url: 'http://192.168.1.10/hook' });
  expect(changed.status).toBe(400);
  expect((await api<{ url: string }>('GET', `/api/endpoints/${created.body.id}`)).body.url).toBe('https://93.184.215.14/hook');
  const endpoints = await api<{ endpoints: unknown[] }>('GET', '/api/endpoints');
  expect(endpoints.body.endpoints).toHaveLength(1);
});
