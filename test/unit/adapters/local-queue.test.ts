/** The local SQS stand-in's queue semantics and its journal, without HTTP. */
import fs, { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalQueue, md5 } from '../../../lib/local/sqs/local-queue';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookhub-queue-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const open = (name = 'q', settings: Partial<ConstructorParameters<typeof LocalQueue>[0]> = {}) =>
  new LocalQueue({ name, visibilityTimeoutSeconds: 30, delaySeconds: 0, ...settings }, dir, { fsync: false });

describe('LocalQueue', () => {
  it('hides a received message for its visibility timeout and counts receives', async () => {
    const queue = open('q', { visibilityTimeoutSeconds: 0 });
    queue.send([{ body: 'a' }]);
    const [first] = queue.receive(10, 1);
    expect(first).toMatchObject({ Body: 'a', MD5OfBody: md5('a'), Attributes: { ApproximateReceiveCount: '1' } });
    expect(queue.receive(10, 1)).toEqual([]);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect(queue.receive(10)[0]).toMatchObject({ Body: 'a', Attributes: { ApproximateReceiveCount: '2' } });
    queue.close();
  });

  it('ignores a stale receipt handle, as SQS does', () => {
    const queue = open();
    queue.send([{ body: 'a' }]);
    const [first] = queue.receive(1, 0);
    const [second] = queue.receive(1, 30);
    expect(queue.delete([first!.ReceiptHandle])).toEqual([{ handle: first!.ReceiptHandle, deleted: false, known: true }]);
    expect(queue.delete([second!.ReceiptHandle])[0]!.deleted).toBe(true);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    queue.close();
  });

  it('delays messages and moves one received maxReceiveCount times to the dead-letter queue', () => {
    const deadLetter = open('dlq');
    const queue = open('q', { redrive: { deadLetterQueue: deadLetter, maxReceiveCount: 2 } });
    queue.send([{ body: 'later', delaySeconds: 60 }, { body: 'poison' }]);
    expect(queue.counts()).toEqual({ visible: 1, inFlight: 0, delayed: 1 });
    expect(queue.receive(10, 0).map((message) => message.Body)).toEqual(['poison']);
    expect(queue.receive(10, 0).map((message) => message.Body)).toEqual(['poison']);
    expect(queue.receive(10, 0)).toEqual([]);
    expect(deadLetter.receive(10).map((message) => message.Body)).toEqual(['poison']);
    queue.close();
    deadLetter.close();
  });

  it('recovers from its journal after a crash: sent messages survive, deleted ones stay gone, receive counts persist', () => {
    const crashed = open();
    crashed.send([{ body: 'kept' }, { body: 'deleted' }, { body: 'in flight' }]);
    const received = crashed.receive(3, 300);
    crashed.delete([received.find((message) => message.Body === 'deleted')!.ReceiptHandle]);
    // No close(): the process died. A write cut short by the crash leaves a partial last line.
    const torn = '{"op":"send","id":"half-writ';
    appendFileSync(join(dir, 'q.journal'), torn);

    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const recovered = open();
    expect(recovered.replayReport).toMatchObject({ outcome: 'torn tail', tornTailBytes: Buffer.byteLength(torn) });
    const again = recovered.receive(10, 30);
    expect(again.map((message) => message.Body).sort()).toEqual(['in flight', 'kept']);
    expect(again.every((message) => message.Attributes.ApproximateReceiveCount === '2')).toBe(true);
    recovered.close();
    // The journal was compacted on open: only live messages remain before the new records.
    expect(readFileSync(join(dir, 'q.journal'), 'utf8')).not.toContain('"body":"deleted"');
  });
});

describe('LocalQueue when its journal cannot be written (disk full)', () => {
  const diskFull = () =>
    jest.spyOn(fs, 'writeSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });

  it('refuses a send and holds nothing it did not journal', () => {
    const queue = open();
    diskFull();
    expect(() => queue.send([{ body: 'a' }])).toThrow(/ENOSPC/);
    jest.restoreAllMocks();
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    queue.close();
  });

  it('refuses a receive without hiding the message or counting the receive', () => {
    const queue = open();
    queue.send([{ body: 'a' }]);
    diskFull();
    expect(() => queue.receive(10)).toThrow(/ENOSPC/);
    jest.restoreAllMocks();
    expect(queue.counts()).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    expect(queue.receive(10)[0]!.Attributes.ApproximateReceiveCount).toBe('1');
    queue.close();
  });

  it('refuses a delete and keeps the message in flight, so it is delivered again rather than lost', () => {
    const queue = open();
    queue.send([{ body: 'a' }]);
    const [received] = queue.receive(1, 0);
    diskFull();
    expect(() => queue.delete([received!.ReceiptHandle])).toThrow(/ENOSPC/);
    jest.restoreAllMocks();
    expect(queue.counts().visible + queue.counts().inFlight).toBe(1);
    expect(queue.delete([received!.ReceiptHandle])).toEqual([{ handle: received!.ReceiptHandle, deleted: true, known: true }]);
    queue.close();
  });

  it('refuses a redrive and a purge without moving or dropping anything', () => {
    const deadLetter = open('dlq');
    const queue = open('q', { redrive: { deadLetterQueue: deadLetter, maxReceiveCount: 1 } });
    queue.send([{ body: 'poison' }]);
    queue.receive(1, 0);
    diskFull();
    expect(() => queue.receive(1, 0)).toThrow(/ENOSPC/);
    expect(() => queue.purge()).toThrow(/ENOSPC/);
    jest.restoreAllMocks();
    expect(queue.counts()).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    expect(deadLetter.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(queue.receive(1, 0)).toEqual([]);
    expect(deadLetter.receive(1).map((message) => message.Body)).toEqual(['poison']);
    queue.close();
    deadLetter.close();
  });
});
