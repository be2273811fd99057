/**
 * The data directory lock: one runtime per directory, a stale lock (its pid is gone) is taken over, a directory
 * that cannot be written is refused with a reason, and a runtime releases only its own lock.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirectoryUnavailableError, LOCK_FILE_NAME, lockDataDirectory } from '../../lib/local/data-directory-lock';

const root = mkdtempSync(join(tmpdir(), 'hookhub-lock-'));
const running: ChildProcess[] = [];
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

let count = 0;
const freshDirectory = () => join(root, `data-${++count}`);

/** A pid that certainly belonged to a process and no longer does: a child that ran and was reaped. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid!;
}

/** A process that stays alive until the test suite ends, to hold a lock the way another runtime would. */
function livePid(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  running.push(child);
  return child.pid!;
}

it('creates the directory and a lock file holding this pid, and removes it on release', () => {
  const dataDir = freshDirectory();
  const lock = lockDataDirectory(dataDir);
  expect(lock.path).toBe(join(dataDir, LOCK_FILE_NAME));
  expect(readFileSync(lock.path, 'utf8').trim()).toBe(String(process.pid));
  expect(lock.tookOverFromPid).toBeUndefined();
  lock.release();
  lock.release();
  expect(existsSync(lock.path)).toBe(false);
});

it('refuses a directory whose lock is held by a running process, naming the directory and the pid', () => {
  const dataDir = freshDirectory();
  const holder = livePid();
  lockDataDirectory(dataDir).release();
  writeFileSync(join(dataDir, LOCK_FILE_NAME), `${holder}\n`);
  expect(() => lockDataDirectory(dataDir)).toThrow(DataDirectoryUnavailableError);
  expect(() => lockDataDirectory(dataDir)).toThrow(`data directory ${dataDir} is in use by another hookhub runtime (pid ${holder})`);
  expect(readFileSync(join(dataDir, LOCK_FILE_NAME), 'utf8').trim()).toBe(String(holder));
});

it('takes over a stale lock whose process is gone, and says whose it was', () => {
  const dataDir = freshDirectory();
  const dead = deadPid();
  lockDataDirectory(dataDir).release();
  writeFileSync(join(dataDir, LOCK_FILE_NAME), `${dead}\n`);
  const lock = lockDataDirectory(dataDir);
  expect(lock.tookOverFromPid).toBe(dead);
  expect(readFileSync(lock.path, 'utf8').trim()).toBe(String(process.pid));
  lock.release();
});

it('takes over a lock file left empty by a crash while it was written', () => {
  const dataDir = freshDirectory();
  lockDataDirectory(dataDir).release();
  writeFileSync(join(dataDir, LOCK_FILE_NAME), '');
  const lock = lockDataDirectory(dataDir);
  expect(readFileSync(lock.path, 'utf8').trim()).toBe(String(process.pid));
  lock.release();
});

it('does not remove a lock another runtime has taken since', () => {
  const dataDir = freshDirectory();
  const lock = lockDataDirectory(dataDir);
  writeFileSync(lock.path, `${livePid()}\n`);
  lock.release();
  expect(existsSync(lock.path)).toBe(true);
});

it('refuses a data directory that cannot be created, saying why', () => {
  const file = join(root, 'a-file');
  writeFileSync(file, '');
  const dataDir = join(file, 'data');
  expect(() => lockDataDirectory(dataDir)).toThrow(
    `data directory ${dataDir} is not writable (ENOTDIR: a part of its path is a file, not a directory); set HOOKHUB_DATA_DIR to a writable directory`,
  );
});
