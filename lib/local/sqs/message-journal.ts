/**
 * Append-only journal that makes a local queue survive `kill -9`: every send, receive and delete is written with a
 * synchronous write(2) before the SQS call answers, so once a producer has its MessageId the message is in the
 * kernel's page cache and outlives the process. (Power loss is another matter: set `fsync` to pay for that too.)
 *
 * An append is all or nothing: a short write or an error (ENOSPC) truncates the file back to where the append began
 * and throws, so the caller answers with an error and nothing is promised. A record is never written after a
 * fragment of another one. On open the journal is replayed, what replay found is reported (returned, and logged
 * with the journal's path), and the file is rewritten with only the live messages.
 */
import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export type JournalRecord =
  | { op: 'send'; id: string; body: string; sentAt: number; visibleAt: number; receiveCount?: number; firstReceivedAt?: number }
  | { op: 'receive'; id: string; at: number }
  | { op: 'delete'; id: string };

export interface JournaledMessage {
  id: string;
  body: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
}

/** What replaying a journal found. */
export interface ReplayReport {
  /**
   * `clean`; `torn tail`: the last line was cut short by a crash mid-write (its call never answered, so nothing it
   * held was promised) and was removed; `corrupt`: unreadable lines sit between good ones, which a crash cannot
   * produce, so the original file is kept at `corruptCopy` and every intact record is recovered.
   */
  outcome: 'clean' | 'torn tail' | 'corrupt';
  /** Records replayed. */
  intactRecords: number;
  /** Bytes of the torn last line that were removed (0 when there was none). */
  tornTailBytes: number;
  /** 1-based line numbers that could not be read (empty unless `corrupt`). */
  corruptLines: number[];
  /** Where the corrupt journal was kept for inspection. */
  corruptCopy?: string;
}

/** An append that did not reach the file whole; the journal is as it was before it. */
export class JournalWriteError extends Error {}

/** How durable a journal's writes are. */
export interface JournalOptions {
  /** fdatasync each append, and fsync the directory after a compaction renames the file: survives power loss. */
  fsync: boolean;
}

// After a failed compaction (the disk is full), wait for this many more records before trying again.
const COMPACTION_RETRY_RECORDS = 1_000;

export class MessageJournal {
  /** Set while a failed append's bytes could not be truncated away; nothing is appended until they are. */
  private fragmentAt?: number;
  /** Set when a compaction's rename may not be durable yet (fsync mode): the next append syncs the directory. */
  private directorySyncPending = false;
  private nextCompactionAt = 0;

  private constructor(
    private readonly path: string,
    private readonly options: JournalOptions,
    private fd: number,
    /** Bytes in the file: where the next append starts, and where a failed one is truncated back to. */
    private size: number,
    /** Records in the file, live or dead: the compaction heuristic's measure of waste. */
    private records: number,
  ) {}

  /** Replays the journal at `path` (if any), compacts it, and returns the live messages in send order. */
  static open(path: string, options: JournalOptions): { journal: MessageJournal; messages: JournaledMessage[]; report: ReplayReport } {
    mkdirSync(dirname(path), { recursive: true });
    const contents = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
    const replayed = replay(contents);
    const report: ReplayReport = {
      outcome: replayed.corruptLines.length > 0 ? 'corrupt' : replayed.tornTailBytes > 0 ? 'torn tail' : 'clean',
      intactRecords: replayed.records,
      tornTailBytes: replayed.tornTailBytes,
      corruptLines: replayed.corruptLines,
    };
    // Before the compaction below replaces the file: the original bytes are evidence.
    if (report.outcome === 'corrupt') report.corruptCopy = keepAside(path);

    let journal: MessageJournal;
    try {
      const { fd, size, directorySynced } = writeCompacted(path, replayed.messages, options);
      journal = new MessageJournal(path, options, fd, size, replayed.messages.length);
      journal.directorySyncPending = !directorySynced;
    } catch (error) {
      // Not fatal: the journal as it is stays valid once a torn tail is gone. Without the truncate the next record
      // would be glued to the fragment and lost on the next replay, so if it fails the queue cannot start.
      console.warn(`[sqs] ${path}: could not compact at open (${describe(error)}); appending to the journal as it is`);
      if (replayed.tornTailBytes > 0) truncateSync(path, contents.length - replayed.tornTailBytes);
      const fd = openSync(path, 'a');
      journal = new MessageJournal(path, options, fd, fstatSync(fd).size, replayed.records);
    }
    logReplay(path, report);
    return { journal, messages: replayed.messages, report };
  }

  /** Writes `records` whole, or throws and leaves the file as it was. */
  append(records: readonly JournalRecord[]): void {
    if (records.length === 0) return;
    this.removeFragment();
    if (this.directorySyncPending) {
      try {
        syncDirectory(dirname(this.path));
      } catch (error) {
        throw new JournalWriteError(`could not make ${this.path}'s last compaction durable: ${describe(error)}`, { cause: error });
      }
      this.directorySyncPending = false;
    }
    const data = Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''), 'utf8');
    const start = this.size;
    try {
      writeFully(this.fd, data);
      // A failed fdatasync means the bytes may never reach the disk: in fsync mode that is not a durable write.
      if (this.options.fsync) fdatasyncSync(this.fd);
    } catch (error) {
      this.truncateBackTo(start);
      throw new JournalWriteError(`could not append to ${this.path}: ${describe(error)}`, { cause: error });
    }
    this.size = start + data.length;
    this.records += records.length;
  }

  /**
   * Rewrites the journal with just the live messages when dead records dominate it. Never throws: the records are
   * already safe, and a compaction that fails (the disk is full) leaves the old journal in use and is retried later.
   */
  compactIfWorthIt(live: Iterable<JournaledMessage>, liveCount: number): void {
    if (this.records < 10_000 || this.records < liveCount * 4 || this.records < this.nextCompactionAt) return;
    if (this.fragmentAt !== undefined) return;
    try {
      const { fd, size, directorySynced } = writeCompacted(this.path, live, this.options);
      closeQuietly(this.fd);
      this.fd = fd;
      this.size = size;
      this.records = liveCount;
      this.directorySyncPending = !directorySynced;
    } catch (error) {
      this.nextCompactionAt = this.records + COMPACTION_RETRY_RECORDS;
      console.warn(`[sqs] ${this.path}: compaction failed (${describe(error)}); the journal stays as it is`);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private truncateBackTo(start: number): void {
    try {
      ftruncateSync(this.fd, start);
    } catch (error) {
      this.fragmentAt = start;
      console.error(`[sqs] ${this.path}: could not remove a partly written record (${describe(error)}); refusing appends until it is removed`);
    }
  }

  /** A fragment left by a failed append must go before anything else is written after it. */
  private removeFragment(): void {
    if (this.fragmentAt === undefined) return;
    try {
      ftruncateSync(this.fd, this.fragmentAt);
    } catch (error) {
      throw new JournalWriteError(`${this.path} ends with a partly written record that cannot be removed yet: ${describe(error)}`, { cause: error });
    }
    this.size = this.fragmentAt;
    this.fragmentAt = undefined;
  }
}

/** write(2) may write less than asked (a nearly full disk does): keep going until every byte is written or it fails. */
function writeFully(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) {
    const count = writeSync(fd, data, written, data.length - written);
    if (count <= 0) throw new Error(`short write: ${written} of ${data.length} bytes`);
    written += count;
  }
}

/**
 * Writes the live messages to `<path>.compact` and renames it over `path`. The new file is opened in append mode
 * before the rename and its descriptor returned, so there is no moment where the journal has no open descriptor;
 * until the rename the old journal is untouched, so any failure leaves it intact and in use.
 */
function writeCompacted(
  path: string,
  messages: Iterable<JournaledMessage>,
  options: JournalOptions,
): { fd: number; size: number; directorySynced: boolean } {
  const compacted = `${path}.compact`;
  const lines: string[] = [];
  for (const message of messages) lines.push(`${JSON.stringify(sendRecordOf(message))}\n`);
  const data = Buffer.from(lines.join(''), 'utf8');
  let fd: number | undefined;
  try {
    fd = openSync(compacted, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND, 0o644);
    writeFully(fd, data);
    // Always: a rename must never replace the old journal with one whose contents are not on disk yet.
    fdatasyncSync(fd);
    renameSync(compacted, path);
  } catch (error) {
    if (fd !== undefined) closeQuietly(fd);
    rmSync(compacted, { force: true });
    throw error;
  }
  // The rename is done; making it durable matters only in fsync mode (a crash keeps it without this). Should the
  // directory sync fail, the next append retries it before it acknowledges anything.
  let directorySynced = true;
  if (options.fsync) {
    try {
      syncDirectory(dirname(path));
    } catch {
      directorySynced = false;
    }
  }
  return { fd, size: data.length, directorySynced };
}

/** A rename is an entry in the directory: only an fsync of the directory itself puts it on disk. */
function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A hard link keeps the original bytes without needing free space (a copy where links are not supported). Should
 * the compaction after it fail too, later appends land in the same file, after the corrupt lines it keeps.
 */
function keepAside(path: string): string {
  const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    linkSync(path, aside);
  } catch {
    copyFileSync(path, aside);
  }
  return aside;
}

function logReplay(path: string, report: ReplayReport): void {
  if (report.outcome === 'torn tail') {
    console.warn(
      `[sqs] ${path}: torn tail: removed ${report.tornTailBytes} bytes of a write cut short by a crash (never acknowledged); ` +
        `${report.intactRecords} intact records replayed`,
    );
  } else if (report.outcome === 'corrupt') {
    console.error(
      `[sqs] ${path}: corrupt: line${report.corruptLines.length > 1 ? 's' : ''} ${report.corruptLines.join(', ')} could not be read and ` +
        `${report.corruptLines.length > 1 ? 'were' : 'was'} skipped; ${report.intactRecords} intact records recovered` +
        `${report.tornTailBytes > 0 ? `, a torn tail of ${report.tornTailBytes} bytes removed` : ''}; the original is kept at ${report.corruptCopy}`,
    );
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already unusable; nothing depends on it any more.
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sendRecordOf(message: JournaledMessage): JournalRecord {
  return {
    op: 'send',
    id: message.id,
    body: message.body,
    sentAt: message.sentAt,
    // In flight before a restart means visible again after it; a delay that was never received is kept.
    visibleAt: message.receiveCount > 0 ? 0 : message.visibleAt,
    receiveCount: message.receiveCount,
    firstReceivedAt: message.firstReceivedAt,
  };
}

const NEWLINE = 0x0a;

/**
 * Reads the journal line by line on bytes (a torn tail may end inside a UTF-8 character). Only the last line can be
 * torn by a crash, because every append writes whole lines after the previous append's newline; a bad line
 * anywhere else is corruption.
 */
function replay(contents: Buffer): { messages: JournaledMessage[]; records: number; tornTailBytes: number; corruptLines: number[] } {
  const messages = new Map<string, JournaledMessage>();
  const badLines: { number: number; start: number }[] = [];
  let records = 0;
  let lineNumber = 0;
  let start = 0;
  while (start < contents.length) {
    lineNumber++;
    const newline = contents.indexOf(NEWLINE, start);
    const end = newline === -1 ? contents.length : newline;
    const record = newline === -1 ? undefined : parseRecord(contents.toString('utf8', start, end));
    if (newline !== -1 && end === start) {
      // An empty line carries nothing; none is ever written, but it harms nothing either.
    } else if (record) {
      apply(messages, record);
      records++;
    } else {
      badLines.push({ number: lineNumber, start });
    }
    start = end + 1;
  }
  const last = badLines.at(-1);
  const tornTail = last !== undefined && last.number === lineNumber ? last : undefined;
  return {
    messages: [...messages.values()],
    records,
    tornTailBytes: tornTail ? contents.length - tornTail.start : 0,
    corruptLines: badLines.filter((line) => line !== tornTail).map((line) => line.number),
  };
}

function parseRecord(line: string): JournalRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<Record<string, unknown>>;
  if (typeof record.id !== 'string') return undefined;
  if (record.op === 'send') {
    return typeof record.body === 'string' && typeof record.sentAt === 'number' && typeof record.visibleAt === 'number'
      ? (record as JournalRecord)
      : undefined;
  }
  if (record.op === 'receive') return typeof record.at === 'number' ? (record as JournalRecord) : undefined;
  if (record.op === 'delete') return record as JournalRecord;
  return undefined;
}

function apply(messages: Map<string, JournaledMessage>, record: JournalRecord): void {
  if (record.op === 'send') {
    messages.set(record.id, {
      id: record.id,
      body: record.body,
      sentAt: record.sentAt,
      visibleAt: record.visibleAt,
      receiveCount: record.receiveCount ?? 0,
      firstReceivedAt: record.firstReceivedAt,
    });
  } else if (record.op === 'receive') {
    const message = messages.get(record.id);
    if (message) {
      message.receiveCount++;
      message.firstReceivedAt ??= record.at;
      message.visibleAt = 0;
    }
  } else {
    messages.delete(record.id);
  }
}
