/**
 * One local runtime per data directory. dynalite's LevelDB and the queue journals assume a single writer; a second
 * runtime on the same directory used to fail deep inside with only `connect ECONNREFUSED`. The lock is a file
 * holding the owner's pid, created with O_EXCL so exactly one process can create it. Creating it also proves the
 * directory is writable, so a read-only directory is refused here too, with its own message.
 *
 * A runtime killed with `kill -9` leaves its lock behind; a lock whose pid is no longer running is stale and is
 * taken over. (Two runtimes taking over the same stale lock at the same instant could both succeed; for a
 * development runtime started by hand that race is accepted rather than adding a second locking mechanism.)
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE_NAME = 'runtime.lock';

export interface DataDirectoryLock {
  path: string;
  /** Set when a stale lock left by a process that is no longer running was taken over. */
  tookOverFromPid?: number;
  /** Removes the lock file if this process still owns it. Safe to call more than once, and from an `exit` handler. */
  release(): void;
}

/** The data directory cannot be used: held by another runtime, or not writable. The message is one line. */
export class DataDirectoryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataDirectoryUnavailableError';
  }
}

export function lockDataDirectory(dataDir: string): DataDirectoryLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw notWritable(dataDir, error);
  }

  let tookOverFromPid: number | undefined;
  // Two rounds at most: the first may find a stale lock and remove it, the second creates ours.
  for (let round = 0; round < 2; round++) {
    if (tryCreateLock(dataDir, path)) return ownedLock(path, tookOverFromPid);
    const holder = readHolderPid(path);
    if (holder !== undefined && holder !== process.pid && isRunning(holder)) {
      throw new DataDirectoryUnavailableError(
        `data directory ${dataDir} is in use by another hookhub runtime (pid ${holder}); stop it, or set HOOKHUB_DATA_DIR to another directory`,
      );
    }
    tookOverFromPid = holder;
    removeIfPresent(path);
  }
  throw new DataDirectoryUnavailableError(`data directory ${dataDir}: another runtime took its lock (${path}) while this one was starting`);
}

/** Creates the lock file with our pid; false if it already exists. Any other failure means the directory is unusable. */
function tryCreateLock(dataDir: string, path: string): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw notWritable(dataDir, error);
  }
  try {
    writeSync(descriptor, `${process.pid}\n`);
  } catch (error) {
    // A full disk: the lock exists but says nothing; remove it so it cannot be mistaken for someone else's.
    closeSync(descriptor);
    removeIfPresent(path);
    throw notWritable(dataDir, error);
  }
  closeSync(descriptor);
  return true;
}

function ownedLock(path: string, tookOverFromPid: number | undefined): DataDirectoryLock {
  let released = false;
  return {
    path,
    tookOverFromPid,
    release() {
      if (released) return;
      released = true;
      // Another runtime may have taken the lock over if ours was removed by hand; never delete theirs.
      if (readHolderPid(path) === process.pid) removeIfPresent(path);
    },
  };
}

/** The pid in a lock file; undefined when the file is gone, empty or garbled (a crash while writing it). */
function readHolderPid(path: string): number | undefined {
  try {
    const content = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(content) ? Number(content) : undefined;
  } catch {
    return undefined;
  }
}

/** Signal 0 checks for existence without delivering anything; EPERM means it exists but belongs to another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function notWritable(dataDir: string, error: unknown): DataDirectoryUnavailableError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  const reasons: Record<string, string> = {
    EROFS: 'it is on a read-only file system',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOTDIR: 'a part of its path is a file, not a directory',
    EEXIST: 'a file of that name is in the way',
    ENOSPC: 'the disk is full',
  };
  const reason = reasons[code] ?? (error as Error).message;
  return new DataDirectoryUnavailableError(
    `data directory ${dataDir} is not writable (${code}: ${reason}); set HOOKHUB_DATA_DIR to a writable directory`,
    { cause: error },
  );
}
