/**
 * A full disk must cost no acknowledged event and need no restart. The data dir is a small tmpfs that is filled
 * with a file: every request refused meanwhile gets a 5xx (so the provider retries), every event that got a 202 is
 * stored and processed, and once the file is deleted the runtime takes events again without being restarted.
 * Needs root to mount the tmpfs (CI runs as root); it fails, never skips, when the mount is refused.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LocalDynamoDb } from '../../lib/local/local-dynamodb';
import { DEMO_SECRET, standardWebhookHeaders } from '../fixtures/sources';
import { killHard, startRuntimeProcess, type RuntimeProcess } from '../fixtures/runtime-process';
import { apiClient, waitUntil } from '../fixtures/local-clients';

const root = mkdtempSync(join(tmpdir(), 'hookhub-disk-full-'));
const mounts: string[] = [];

/** Mounts a tmpfs of `size` at a new directory under `root`. */
function mountTmpfs(name: string, size: string): string {
  const mountPoint = join(root, name);
  mkdirSync(mountPoint);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`the disk-full tests mount a ${size} tmpfs and must run as root (CI does): mount failed: ${stderr || String(error)}`);
  }
  mounts.push(mountPoint);
  return mountPoint;
}

/** Writes `path` until the filesystem has not a byte left, the way a runaway log fills a disk. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (let chunk = 1 << 20; chunk >= 1; ) {
      try {
        writeSync(fd, Buffer.alloc(chunk));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        chunk = Math.floor(chunk / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
}

afterAll(() => {
  for (const mountPoint of mounts) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' }); // a child that is still exiting holds it
    }
  }
  rmSync(root, { recursive: true, force: true });
});

describe('the event store (dynalite on LevelDB) on a full disk', () => {
  it('answers 500 while full, takes writes again once space is back without a restart, and keeps every write it acknowledged', async () => {
    const disk = mountTmpfs('store', '8m');
    const logged = { error: jest.spyOn(console, 'error').mockImplementation(() => undefined), warn: jest.spyOn(console, 'warn').mockImplementation(() => undefined) };
    const store = new LocalDynamoDb(join(disk, 'dynamodb'));
    const acknowledged: string[] = [];
    await store.start();
    try {
      const client = store.client();
      await client.send(
        new CreateTableCommand({
          TableName: 'items',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        }),
      );
      const documents = DynamoDBDocumentClient.from(client);
      const put = async (id: string) => {
        await documents.send(new PutCommand({ TableName: 'items', Item: { id, padding: 'x'.repeat(2_000) } }));
        acknowledged.push(id);
      };
      for (let index = 0; index < 5; index++) await put(`before-${index}`);

      fillDisk(join(disk, 'filler'));
      // Space left in the last pages of LevelDB's files takes a few more writes; then one must fail.
      let refusal: unknown;
      for (let index = 0; index < 500 && !refusal; index++) await put(`full-${index}`).catch((error: unknown) => (refusal = error));
      expect(refusal).toMatchObject({ $metadata: { httpStatusCode: 500 } });
      // What an operator reads: which store, what failed.
      expect(logged.error).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`${join(disk, 'dynamodb')}: a write failed \\(.*No space left on device`)));

      rmSync(join(disk, 'filler'));
      await waitUntil(() => put('after-0').then(() => true, () => false), 20_000, 'the store to take writes again');
      for (let index = 1; index < 5; index++) await put(`after-${index}`);
      expect(logged.warn).toHaveBeenCalledWith(expect.stringContaining(`${join(disk, 'dynamodb')}: store reopened`));
      client.destroy();
    } finally {
      await store.stop();
    }

    await store.start();
    const missing: string[] = [];
    try {
      const reopened = DynamoDBDocumentClient.from(store.client());
      for (const id of acknowledged) {
        const { Item } = await reopened.send(new GetCommand({ TableName: 'items', Key: { id } }));
        if (!Item) missing.push(id);
      }
      reopened.destroy();
    } finally {
      await store.stop();
      jest.restoreAllMocks();
    }
    expect(missing).toEqual([]);
  });
});

type PublicEvent = { id: string; status: string };

describe('the local runtime on a full disk', () => {
  let runtime: RuntimeProcess | undefined;
  afterAll(async () => {
    if (runtime) await killHard(runtime);
  });

  it('answers 5xx instead of 202 while full, processes every acknowledged event, and recovers without a restart', async () => {
    const disk = mountTmpfs('runtime', '16m');
    const environment = { HOOKHUB_DATA_DIR: join(disk, 'data'), HOOKHUB_ADMIN_KEY: 'disk-full-admin-key-0123', HOOKHUB_DEMO_SECRET: DEMO_SECRET };
    runtime = await startRuntimeProcess(environment);
    const started = runtime;
    let sequence = 0;
    const post = async (): Promise<{ status: number; id?: string }> => {
      const body = JSON.stringify({ type: 'disk.test', sequence: sequence++, padding: 'x'.repeat(1_000) });
      try {
        const response = await fetch(`${started.httpUrl}/hooks/demo`, {
          method: 'POST',
          headers: standardWebhookHeaders(DEMO_SECRET, `msg_disk_${sequence}`, body),
          body,
          signal: AbortSignal.timeout(15_000),
        });
        const answer = (await response.json()) as { ids?: string[] };
        return { status: response.status, id: answer.ids?.[0] };
      } catch {
        return { status: 0 }; // no answer at all: recorded, and the assertions below refuse it
      }
    };
    const acknowledged = new Set<string>();
    const record = (answer: { status: number; id?: string }) => {
      if (answer.status === 202) acknowledged.add(answer.id!);
      return answer.status;
    };

    // A burst the worker is still storing when the disk fills, so the event store's writes fail too.
    const beforeStatuses = await Promise.all(Array.from({ length: 20 }, () => post().then(record)));
    expect(beforeStatuses.every((status) => status === 202)).toBe(true);
    fillDisk(join(disk, 'filler'));

    const fullStatuses: number[] = [];
    for (let index = 0; index < 15; index++) fullStatuses.push(record(await post()));
    // Slack in the last page of the queue's journal may still take an event or two; every other one is refused.
    expect(fullStatuses.filter((status) => status !== 202).every((status) => status >= 500 && status <= 599)).toBe(true);
    expect(fullStatuses.filter((status) => status >= 500).length).toBeGreaterThan(0);

    rmSync(join(disk, 'filler'));
    const afterStatuses: number[] = [];
    for (let index = 0; index < 10; index++) afterStatuses.push(record(await post()));
    expect(afterStatuses).toEqual(Array(10).fill(202));

    const api = apiClient(started.httpUrl, environment.HOOKHUB_ADMIN_KEY);
    const waitForAllProcessed = async (what: string) => {
      const missing = new Set(acknowledged);
      await waitUntil(
        async () => {
          for (const id of [...missing]) {
            const { status, body } = await api<PublicEvent>(`/api/events/${id}`).catch(() => ({ status: 0, body: { id, status: '' } }));
            if (status === 200 && body.status === 'processed') missing.delete(id);
          }
          return missing.size === 0;
        },
        25_000,
        `${what}: ${missing.size} acknowledged events to be processed`,
      );
    };
    await waitForAllProcessed('without a restart');
    expect(started.child.exitCode).toBeNull(); // the same process throughout

    await killHard(started);
    runtime = await startRuntimeProcess(environment);
    const restarted = apiClient(runtime.httpUrl, environment.HOOKHUB_ADMIN_KEY);
    for (const id of acknowledged) {
      const { status, body } = await restarted<PublicEvent>(`/api/events/${id}`);
      expect({ id, status, processed: body.status }).toEqual({ id, status: 200, processed: 'processed' });
    }
  });
});
