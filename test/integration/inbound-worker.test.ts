/**
 * The worker runs on its own thread (lib/local/queue-worker.ts). If that thread dies, the runtime says so, starts
 * a new one and keeps every accepted event; a stop lets it finish the batch it holds, so nothing is left in flight.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalRuntime } from '../../lib/local/local-runtime';
import { startTestRuntime, TEST_PROCESSORS_MODULE } from '../fixtures/test-runtime';
import { LocalQueue } from '../../lib/local/sqs/local-queue';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { apiClient, postHook, waitUntil } from '../fixtures/local-clients';

const ADMIN_KEY = 'worker-thread-admin-key-0123456789';
const config = parseHookhubConfig({
  sources: [
    { id: 'exits', verification: { scheme: 'none' }, insecure: true, eventId: { field: 'id' }, processor: 'exit-thread-once' },
    { id: 'slow', verification: { scheme: 'none' }, insecure: true, eventId: { field: 'id' }, processor: 'slow-when-asked' },
  ],
});
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-worker-'));
let runtime: LocalRuntime;
let stopped = false;

// One runtime for the file: handler modules read their configuration at import, so a process hosts one runtime.
beforeAll(async () => {
  runtime = await startTestRuntime({
    config,
    dataDir,
    adminKey: ADMIN_KEY,
    visibilityTimeoutSeconds: 1,
    processorsModule: TEST_PROCESSORS_MODULE,
  });
});

afterAll(async () => {
  if (!stopped) await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
});
afterEach(() => jest.restoreAllMocks());

async function statusOf(id: string): Promise<string | undefined> {
  const { status, body } = await apiClient(runtime.httpUrl, ADMIN_KEY)<{ status: string }>(`/api/events/${id}`);
  return status === 200 ? body.status : undefined;
}

it('says when the worker thread dies, starts a new one, and processes what the dead one held and what came after', async () => {
  const errors: string[] = [];
  jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.map(String).join(' ')));
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const fatal = await postHook(runtime.httpUrl, 'exits', JSON.stringify({ id: 'fatal', exitMarker: join(dataDir, 'exited-once') }), { 'content-type': 'application/json' });
  expect(fatal.status).toBe(202);
  await waitUntil(async () => errors.some((line) => line.includes('[worker] the sqs-process-inbound worker thread ended unexpectedly (exit code 70); starting a new one')), 15_000, 'the runtime to report the dead thread');

  // Ingest does not depend on the worker thread: events are accepted while it is being replaced.
  const after = await postHook(runtime.httpUrl, 'exits', JSON.stringify({ id: 'after' }), { 'content-type': 'application/json' });
  expect(after.status).toBe(202);

  await waitUntil(async () => (await statusOf(fatal.body.ids![0]!)) === 'processed', 20_000, 'the held event to be processed by the new thread');
  await waitUntil(async () => (await statusOf(after.body.ids![0]!)) === 'processed', 20_000, 'the later event to be processed');
});

it('stops cleanly: the batch in hand is finished and deleted, nothing is left in the queue', async () => {
  // Under the 1 s visibility timeout, so the message is not received a second time meanwhile.
  const startedMarker = join(dataDir, 'slow-started');
  const accepted = await postHook(runtime.httpUrl, 'slow', JSON.stringify({ id: 'in-hand', slowMs: 700, startedMarker }), { 'content-type': 'application/json' });
  expect(accepted.status).toBe(202);
  await waitUntil(async () => existsSync(startedMarker), 15_000, 'the worker to take the event');

  await runtime.stop();
  stopped = true;

  // What a restart would find: the journal holds no message, so the event was finished, not cut off.
  const reopened = new LocalQueue({ name: 'hookhub-inbound', visibilityTimeoutSeconds: 30, delaySeconds: 0 }, join(dataDir, 'sqs'), { fsync: false });
  expect(reopened.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  reopened.close();
});
