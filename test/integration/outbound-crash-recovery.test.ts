/**
 * No acknowledged message may be lost: the runtime is `kill -9`ed while messages are published, restarted on the
 * same data dir, and every message that got a 202 must reach the receiver (verified), whatever was in flight.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_SECRET } from '../fixtures/sources';
import { killHard, startRuntimeProcess, type RuntimeProcess } from '../fixtures/runtime-process';
import { managementClient, waitUntil } from '../fixtures/local-clients';
import { WebhookReceiver } from '../fixtures/webhook-receiver';

const TOTAL = 300;
const CONCURRENCY = 12;
const KILL_AFTER_ACKS = 100;
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-outbound-crash-'));
const environment = { HOOKHUB_DATA_DIR: dataDir, HOOKHUB_ADMIN_KEY: 'outbound-crash-admin-key-0123', HOOKHUB_DEMO_SECRET: DEMO_SECRET };
let runtime: RuntimeProcess | undefined;
const receiver = new WebhookReceiver();

afterAll(async () => {
  if (runtime) await killHard(runtime);
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('delivers every acknowledged message after a kill -9 mid-load', async () => {
  await receiver.listen();
  runtime = await startRuntimeProcess(environment);
  const first = runtime;
  const api = managementClient(first.httpUrl, environment.HOOKHUB_ADMIN_KEY);
  const endpoint = await api<{ id: string; secret: string }>('POST', '/api/endpoints', { url: receiver.url('/crash'), eventTypes: ['load.*'] });
  expect(endpoint.status).toBe(201);
  receiver.setSecrets('/crash', [endpoint.body.secret]);

  const acknowledged = new Set<string>();
  let next = 0;
  let killed: Promise<void> | undefined;
  const publisher = async () => {
    while (next < TOTAL) {
      const sequence = next++;
      try {
        const response = await fetch(`${first.httpUrl}/api/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${environment.HOOKHUB_ADMIN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ eventType: 'load.test', payload: { sequence } }),
          signal: AbortSignal.timeout(5_000),
        });
        if (response.status === 202) acknowledged.add(((await response.json()) as { id: string }).id);
      } catch {
        // Cut off by the crash: not acknowledged, so nothing was promised.
      }
      if (acknowledged.size >= KILL_AFTER_ACKS && !killed) killed = killHard(first);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, publisher));
  await killed;
  expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
  expect(acknowledged.size).toBeLessThan(TOTAL);

  runtime = await startRuntimeProcess(environment);
  const delivered = await waitUntil(async () => {
    const ids = new Set(receiver.at('/crash').filter((delivery) => delivery.verifiedWith[0]).map((delivery) => delivery.headers['webhook-id']));
    return [...acknowledged].every((id) => ids.has(id)) && ids;
  }, 60_000, 'every acknowledged message at the receiver');
  expect([...acknowledged].filter((id) => !delivered.has(id))).toEqual([]);
}, 120_000);
