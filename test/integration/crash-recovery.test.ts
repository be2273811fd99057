/**
 * No acknowledged event may be lost: the runtime is `kill -9`ed while signed events stream in, restarted on the
 * same data dir, and every event that got a 202 must end up stored and processed exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_SECRET, standardWebhookHeaders } from '../fixtures/sources';
import { killHard, startRuntimeProcess, type RuntimeProcess } from '../fixtures/runtime-process';
import { apiClient, waitUntil } from '../fixtures/local-clients';

const TOTAL = 400;
const CONCURRENCY = 16;
const KILL_AFTER_ACKS = 120;
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-crash-'));
const environment = { HOOKHUB_DATA_DIR: dataDir, HOOKHUB_ADMIN_KEY: 'crash-test-admin-key-0123', HOOKHUB_DEMO_SECRET: DEMO_SECRET };
let runtime: RuntimeProcess | undefined;

afterAll(async () => {
  if (runtime) await killHard(runtime);
  rmSync(dataDir, { recursive: true, force: true });
});

type PublicEvent = { id: string; status: string; attempts: number; duplicates: number; payload: { sequence: number } };

it('keeps every acknowledged event across kill -9 and stores each exactly once', async () => {
  runtime = await startRuntimeProcess(environment);
  const first = runtime;
  const acknowledged = new Map<string, number>();
  let next = 0;
  let killed: Promise<void> | undefined;

  const sender = async () => {
    while (next < TOTAL) {
      const sequence = next++;
      const body = JSON.stringify({ type: 'load.test', sequence });
      try {
        const response = await fetch(`${first.httpUrl}/hooks/demo`, {
          method: 'POST',
          headers: standardWebhookHeaders(DEMO_SECRET, `msg_crash_${sequence}`, body),
          body,
          signal: AbortSignal.timeout(5_000),
        });
        if (response.status === 202) {
          const { ids } = (await response.json()) as { ids: string[] };
          acknowledged.set(ids[0]!, sequence);
        }
      } catch {
        // Refused or cut off by the crash: not acknowledged, so the provider would retry; nothing was promised.
      }
      if (acknowledged.size >= KILL_AFTER_ACKS && !killed) killed = killHard(first);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  await killed;
  expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
  expect(acknowledged.size).toBeLessThan(TOTAL); // the crash really cut the load short

  runtime = await startRuntimeProcess(environment);
  const api = apiClient(runtime.httpUrl, environment.HOOKHUB_ADMIN_KEY);
  await waitUntil(
    async () => {
      const page = await api<{ events: PublicEvent[] }>('/api/events?status=processed&limit=100');
      return page.body.events.length > 0;
    },
    20_000,
    'processing to resume',
  );

  const missing = new Set(acknowledged.keys());
  await waitUntil(
    async () => {
      for (const id of [...missing]) {
        const { status, body } = await api<PublicEvent>(`/api/events/${id}`);
        if (status === 200 && body.status === 'processed') missing.delete(id);
      }
      return missing.size === 0;
    },
    60_000,
    'every acknowledged event to be processed',
  );

  for (const [id, sequence] of acknowledged) {
    const { body } = await api<PublicEvent>(`/api/events/${id}`);
    expect({ id, sequence: body.payload.sequence, duplicates: body.duplicates }).toEqual({ id, sequence, duplicates: 0 });
  }

  // Walk the whole store: each event appears once, and nothing appears that was never sent.
  const listed: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { events: PublicEvent[]; cursor: string | null } } = await api(`/api/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    listed.push(...page.body.events.map((event) => event.id));
    for (const event of page.body.events) expect(event.payload.sequence).toBeLessThan(TOTAL);
    cursor = page.body.cursor;
  } while (cursor);
  expect(new Set(listed).size).toBe(listed.length);
  for (const id of acknowledged.keys()) expect(listed).toContain(id);
});
