/**
 * fsync mode must keep every acknowledged write through a power cut, in the queue journal and in the event store.
 *
 * The stand-in for the power cut: the data lives on an ext4 filesystem in a loop-mounted image file. Copying the
 * image while the filesystem is mounted and in use yields exactly the bytes that had reached the "disk"; data still
 * in the page cache (a write(2) that was never synced) is not in the copy. Mounting the copy replays ext4's journal
 * as booting after a power cut would, and the stores are opened on it. A canary file written without fsync right
 * before the copy must be missing from it, or the stand-in did not drop anything and the test would prove nothing.
 * Needs root, loop devices and mkfs.ext4 (CI has them); it fails, never skips, when they are missing.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LocalDynamoDb } from '../../lib/local/local-dynamodb';
import { LocalQueue } from '../../lib/local/sqs/local-queue';
import { DEMO_SECRET, standardWebhookHeaders } from '../fixtures/sources';
import { killHard, startRuntimeProcess } from '../fixtures/runtime-process';
import { apiClient, waitUntil } from '../fixtures/local-clients';

const root = mkdtempSync(join(tmpdir(), 'hookhub-power-loss-'));
const mounted: string[] = [];

function run(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`the power-loss tests need root, loop devices and mkfs.ext4 (CI has them): ${command} ${args.join(' ')} failed: ${stderr || String(error)}`);
  }
}

/** A fresh ext4 filesystem in an image file, loop-mounted; returns its mount point. */
function mountFreshDisk(name: string): { image: string; mountPoint: string } {
  const image = join(root, `${name}.img`);
  closeSync(openSync(image, 'w'));
  run('truncate', ['-s', '64M', image]);
  run('mkfs.ext4', ['-q', '-F', image]);
  return { image, mountPoint: mountImage(image, name) };
}

function mountImage(image: string, name: string): string {
  const mountPoint = join(root, name);
  mkdirSync(mountPoint, { recursive: true });
  run('mount', ['-o', 'loop', image, mountPoint]);
  mounted.push(mountPoint);
  return mountPoint;
}

/**
 * Cuts the power: the disk as it is now (the image's bytes), mounted elsewhere. The live filesystem is left alone,
 * as are the stores still running on it; they simply never hear about it.
 */
function cutPower(disk: { image: string; mountPoint: string }, name: string): string {
  const canary = join(disk.mountPoint, 'canary');
  const fd = openSync(canary, 'w');
  writeSync(fd, 'written, never synced');
  closeSync(fd);
  const copy = join(root, `${name}.img`);
  copyFileSync(disk.image, copy);
  const afterPowerLoss = mountImage(copy, name);
  const canaryAfter = join(afterPowerLoss, 'canary');
  if (existsSync(canaryAfter) && statSync(canaryAfter).size > 0 && readFileSync(canaryAfter, 'utf8') === 'written, never synced') {
    throw new Error('the power-loss stand-in kept data that was never synced, so this test cannot tell synced from unsynced writes');
  }
  return afterPowerLoss;
}

afterAll(() => {
  for (const mountPoint of mounted.reverse()) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
    }
  }
  rmSync(root, { recursive: true, force: true });
});

it('keeps every write the event store acknowledged in fsync mode', async () => {
  const disk = mountFreshDisk('store');
  const store = new LocalDynamoDb(join(disk.mountPoint, 'dynamodb'), { fsync: true });
  const acknowledged: string[] = [];
  let afterPowerLoss: string;
  await store.start();
  try {
    const documents = DynamoDBDocumentClient.from(store.client());
    await documents.send(
      new CreateTableCommand({
        TableName: 'items',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let index = 0; index < 10; index++) {
          const id = `item-${writer}-${index}`;
          await documents.send(new PutCommand({ TableName: 'items', Item: { id, written: index } }));
          acknowledged.push(id);
        }
      }),
    );
    afterPowerLoss = cutPower(disk, 'store-after-power-loss');
    documents.destroy();
  } finally {
    await store.stop();
  }

  const recovered = new LocalDynamoDb(join(afterPowerLoss, 'dynamodb'));
  await recovered.start();
  const missing: string[] = [];
  try {
    const reader = DynamoDBDocumentClient.from(recovered.client());
    for (const id of acknowledged) {
      const { Item } = await reader.send(new GetCommand({ TableName: 'items', Key: { id } }));
      if (!Item) missing.push(id);
    }
    reader.destroy();
  } finally {
    await recovered.stop();
  }
  expect({ acknowledged: acknowledged.length, missing }).toEqual({ acknowledged: 80, missing: [] });
});

it('keeps every send, receive and delete the queue acknowledged in fsync mode, across a compaction', () => {
  const disk = mountFreshDisk('queue');
  const dataDir = join(disk.mountPoint, 'sqs');
  const settings = { name: 'inbound', visibilityTimeoutSeconds: 30, delaySeconds: 0 };
  const first = new LocalQueue(settings, dataDir, { fsync: true });
  first.send(Array.from({ length: 10 }, (_, index) => ({ body: `first-${index}` })));
  first.close();
  // Reopening compacts: the journal is rewritten and renamed, and what follows goes to the new file.
  const queue = new LocalQueue(settings, dataDir, { fsync: true });
  queue.send(Array.from({ length: 10 }, (_, index) => ({ body: `second-${index}` })));
  const received = queue.receive(10);
  queue.delete(received.slice(0, 5).map((message) => message.ReceiptHandle));
  const deleted = new Set(received.slice(0, 5).map((message) => message.Body));

  const afterPowerLoss = cutPower(disk, 'queue-after-power-loss');
  const recovered = new LocalQueue(settings, join(afterPowerLoss, 'sqs'), { fsync: true });
  const bodies = recovered.receive(10).concat(recovered.receive(10)).map((message) => ({ body: message.Body, receives: message.Attributes.ApproximateReceiveCount }));
  const expected = [...Array.from({ length: 10 }, (_, index) => `first-${index}`), ...Array.from({ length: 10 }, (_, index) => `second-${index}`)]
    .filter((body) => !deleted.has(body))
    .map((body) => ({ body, receives: received.some((message) => message.Body === body) ? '2' : '1' }));
  expect(bodies.sort((a, b) => a.body.localeCompare(b.body))).toEqual(expected.sort((a, b) => a.body.localeCompare(b.body)));
  expect(recovered.replayReport.outcome).toBe('clean');
  recovered.close();
  queue.close();
});

it('keeps every event the runtime acknowledged with HOOKHUB_QUEUE_FSYNC=1, queued or stored, through a power cut', async () => {
  const disk = mountFreshDisk('runtime');
  const environment = { HOOKHUB_ADMIN_KEY: 'power-loss-admin-key-0123', HOOKHUB_DEMO_SECRET: DEMO_SECRET, HOOKHUB_QUEUE_FSYNC: '1' };
  const first = await startRuntimeProcess({ ...environment, HOOKHUB_DATA_DIR: join(disk.mountPoint, 'data') });
  const acknowledged: string[] = [];
  let afterPowerLoss: string;
  try {
    // Four senders at once, so the cut finds events in every state: queued, being processed, processed.
    await Promise.all(
      Array.from({ length: 4 }, async (_, sender) => {
        for (let index = 0; index < 10; index++) {
          const body = JSON.stringify({ type: 'power.test', sender, index });
          const response = await fetch(`${first.httpUrl}/hooks/demo`, {
            method: 'POST',
            headers: standardWebhookHeaders(DEMO_SECRET, `msg_power_${sender}_${index}`, body),
            body,
            signal: AbortSignal.timeout(10_000),
          });
          expect(response.status).toBe(202);
          acknowledged.push(((await response.json()) as { ids: string[] }).ids[0]!);
        }
      }),
    );
    afterPowerLoss = cutPower(disk, 'runtime-after-power-loss');
  } finally {
    await killHard(first);
  }

  const second = await startRuntimeProcess({ ...environment, HOOKHUB_DATA_DIR: join(afterPowerLoss, 'data') });
  try {
    const api = apiClient(second.httpUrl, environment.HOOKHUB_ADMIN_KEY);
    const missing = new Set(acknowledged);
    await waitUntil(
      async () => {
        for (const id of [...missing]) {
          const { status, body } = await api<{ status: string }>(`/api/events/${id}`);
          if (status === 200 && body.status === 'processed') missing.delete(id);
        }
        return missing.size === 0;
      },
      60_000,
      'every acknowledged event to be processed after the power cut',
    ).catch(() => undefined); // the assertion below names what is missing
    expect({ acknowledged: acknowledged.length, missing: [...missing] }).toEqual({ acknowledged: 40, missing: [] });
  } finally {
    await killHard(second);
  }
});
