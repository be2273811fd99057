/**
 * Append-only journal that makes a local queue survive `kill -9`: every send, receive and delete is written with a
 * synchronous write(2) before the SQS call answers, so once a producer has its MessageId the message is in the
 * kernel's page cache and outlives the process. (Power loss is another matter: set `fsync` to pay for that too.)
 * On open the journal is replayed and rewritten with only the live messages.
 */
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
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

export class MessageJournal {
  private fd: number;
  private records = 0;

  private constructor(
    private readonly path: string,
    private readonly fsync: boolean,
  ) {
    this.fd = openSync(path, 'a');
  }

  /** Replays the journal at `path` (if any), compacts it, and returns the live messages in send order. */
  static open(path: string, options: { fsync: boolean }): { journal: MessageJournal; messages: JournaledMessage[] } {
    mkdirSync(dirname(path), { recursive: true });
    const messages = existsSync(path) ? replay(readFileSync(path, 'utf8')) : [];
    const compacted = `${path}.compact`;
    const fd = openSync(compacted, 'w');
    writeSync(fd, messages.map((message) => `${JSON.stringify(sendRecordOf(message))}\n`).join(''));
    fdatasyncSync(fd);
    closeSync(fd);
    renameSync(compacted, path);
    const journal = new MessageJournal(path, options.fsync);
    journal.records = messages.length;
    return { journal, messages };
  }

  append(records: readonly JournalRecord[]): void {
    if (records.length === 0) return;
    writeSync(this.fd, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    if (this.fsync) fdatasyncSync(this.fd);
    this.records += records.length;
  }

  /** Rewrites the journal with just the live messages when dead records dominate it. */
  compactIfWorthIt(live: Iterable<JournaledMessage>, liveCount: number): void {
    if (this.records < 10_000 || this.records < liveCount * 4) return;
    closeSync(this.fd);
    const compacted = `${this.path}.compact`;
    const fd = openSync(compacted, 'w');
    const lines: string[] = [];
    for (const message of live) lines.push(`${JSON.stringify(sendRecordOf(message))}\n`);
    writeSync(fd, lines.join(''));
    fdatasyncSync(fd);
    closeSync(fd);
    renameSync(compacted, this.path);
    this.fd = openSync(this.path, 'a');
    this.records = liveCount;
  }

  close(): void {
    closeSync(this.fd);
  }
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

function replay(text: string): JournaledMessage[] {
  const messages = new Map<string, JournaledMessage>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      continue; // a line cut short by a crash mid-write: its call never answered, so nothing was promised
    }
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
  return [...messages.values()];
}
