/**
 * One SQS queue's semantics on one machine: delay, visibility timeout, receive counts and redrive to a dead-letter
 * queue after maxReceiveCount, all journaled (message-journal.ts). What SQS keeps approximate (counts, ordering of a
 * standard queue) is exact here, which only makes tests stricter.
 *
 * Every change is journaled first and applied in memory only once the append succeeded: when the disk is full the
 * call throws (the endpoint answers 500) and the queue is exactly as it was, in memory and on disk.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { INBOUND_QUEUE } from '../../../lambdas/adapters/sqs/queue-definitions';
import { MessageJournal, type JournaledMessage, type JournalRecord, type ReplayReport } from './message-journal';

export interface LocalQueueSettings {
  name: string;
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  redrive?: { deadLetterQueue: LocalQueue; maxReceiveCount: number };
}

interface QueueMessage extends JournaledMessage {
  receiptHandle?: string;
}

export interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes: Record<string, string>;
}

/** The same definition the CDK queues state as MaximumMessageSize: SQS's largest message (1 MiB). */
export const MAX_MESSAGE_BYTES = INBOUND_QUEUE.maxMessageBytes;

export class LocalQueue {
  private readonly messages = new Map<string, QueueMessage>();
  private readonly journal: MessageJournal;
  private readonly waiters = new Set<() => void>();
  /** What replaying the journal found when the queue opened. */
  readonly replayReport: ReplayReport;

  constructor(
    readonly settings: LocalQueueSettings,
    dataDir: string,
    options: { fsync: boolean },
  ) {
    const opened = MessageJournal.open(join(dataDir, `${settings.name}.journal`), options);
    this.journal = opened.journal;
    this.replayReport = opened.report;
    for (const message of opened.messages) this.messages.set(message.id, message);
  }

  get name(): string {
    return this.settings.name;
  }

  send(bodies: readonly { body: string; delaySeconds?: number }[]): { id: string; md5: string }[] {
    const now = Date.now();
    const added: QueueMessage[] = bodies.map(({ body, delaySeconds }) => ({
      id: randomUUID(),
      body,
      sentAt: now,
      visibleAt: now + (delaySeconds ?? this.settings.delaySeconds) * 1000,
      receiveCount: 0,
    }));
    this.journal.append(added.map((message) => ({ op: 'send', id: message.id, body: message.body, sentAt: message.sentAt, visibleAt: message.visibleAt })));
    for (const message of added) this.messages.set(message.id, message);
    this.wake();
    return added.map((message) => ({ id: message.id, md5: md5(message.body) }));
  }

  /** Takes up to `max` visible messages, redriving those already received maxReceiveCount times. */
  receive(max: number, visibilityTimeoutSeconds = this.settings.visibilityTimeoutSeconds): ReceivedMessage[] {
    const now = Date.now();
    const taken: QueueMessage[] = [];
    const redriven: QueueMessage[] = [];
    for (const message of this.messages.values()) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      const redrive = this.settings.redrive;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) redriven.push(message);
      else taken.push(message);
    }
    if (redriven.length > 0) this.moveToDeadLetterQueue(redriven);
    if (taken.length === 0) return [];

    this.journal.append(taken.map((message) => ({ op: 'receive', id: message.id, at: now })));
    return taken.map((message) => {
      message.receiveCount++;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + visibilityTimeoutSeconds * 1000;
      message.receiptHandle = `${message.id}.${randomBytes(12).toString('base64url')}`;
      return {
        MessageId: message.id,
        ReceiptHandle: message.receiptHandle,
        MD5OfBody: md5(message.body),
        Body: message.body,
        Attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
          SenderId: '000000000000',
        },
      };
    });
  }

  /** Long poll: resolves when a message may be receivable or the wait ends. */
  async waitForMessages(milliseconds: number): Promise<void> {
    if (milliseconds <= 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(deadline);
        clearInterval(recheck);
        this.waiters.delete(done);
        resolve();
      };
      const deadline = setTimeout(done, milliseconds);
      // Messages also become visible when their visibility timeout or delay runs out; look again now and then.
      const recheck = setInterval(() => {
        if (this.hasVisible()) done();
      }, 100);
      this.waiters.add(done);
    });
  }

  /** Deletes by receipt handle; like SQS, a stale handle (the message was received again since) deletes nothing. */
  delete(receiptHandles: readonly string[]): { handle: string; deleted: boolean; known: boolean }[] {
    const deleting = new Set<string>();
    const results = receiptHandles.map((handle) => {
      const message = this.messages.get(handle.split('.')[0] ?? '');
      if (!message || deleting.has(message.id)) return { handle, deleted: false, known: isWellFormedHandle(handle) };
      if (message.receiptHandle !== handle) return { handle, deleted: false, known: true };
      deleting.add(message.id);
      return { handle, deleted: true, known: true };
    });
    this.journal.append([...deleting].map((id): JournalRecord => ({ op: 'delete', id })));
    for (const id of deleting) this.messages.delete(id);
    this.journal.compactIfWorthIt(this.messages.values(), this.messages.size);
    return results;
  }

  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): boolean {
    const message = this.messages.get(receiptHandle.split('.')[0] ?? '');
    if (!message || message.receiptHandle !== receiptHandle) return false;
    message.visibleAt = Date.now() + visibilityTimeoutSeconds * 1000;
    if (visibilityTimeoutSeconds === 0) this.wake();
    return true;
  }

  purge(): void {
    this.journal.append([...this.messages.keys()].map((id) => ({ op: 'delete', id })));
    this.messages.clear();
  }

  counts(): { visible: number; inFlight: number; delayed: number } {
    const now = Date.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const message of this.messages.values()) {
      if (message.visibleAt <= now) visible++;
      else if (message.receiveCount > 0) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  close(): void {
    for (const waiter of [...this.waiters]) waiter();
    this.journal.close();
  }

  private hasVisible(): boolean {
    const now = Date.now();
    for (const message of this.messages.values()) if (message.visibleAt <= now) return true;
    return false;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Written to the dead-letter queue first, then removed here: a crash in between duplicates, never loses. */
  private moveToDeadLetterQueue(messages: QueueMessage[]): void {
    this.settings.redrive?.deadLetterQueue.send(messages.map((message) => ({ body: message.body, delaySeconds: 0 })));
    this.journal.append(messages.map((message) => ({ op: 'delete', id: message.id })));
    for (const message of messages) this.messages.delete(message.id);
  }
}

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function isWellFormedHandle(handle: string): boolean {
  return /^[0-9a-f-]{36}\.[A-Za-z0-9_-]+$/.test(handle);
}
