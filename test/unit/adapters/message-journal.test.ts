/**
 * The local queue's journal under the failures a full disk and a crash produce: short writes, ENOSPC in the middle
 * of an append, a truncate or a compaction that fails, torn and corrupt files. Faults are injected by spying on
 * node:fs, so every case is exact and repeatable; test/integration/disk-full.test.ts fills a real disk.
 */
import fs, { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalWriteError, MessageJournal, type JournalRecord } from '../../../lib/local/sqs/message-journal';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookhub-journal-'));
  path = join(dir, 'q.journal');
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const send = (id: string, body = `body of ${id}`): JournalRecord => ({ op: 'send', id, body, sentAt: 1, visibleAt: 0 });
const line = (record: JournalRecord) => `${JSON.stringify(record)}\n`;
const open = (fsync = false) => MessageJournal.open(path, { fsync });
const quietly = () => {
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
};

function noSpaceLeft(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/** Makes writeSync behave like write(2) that stores at most `limit(bytes asked)` bytes, whichever form it is called in. */
function writeAtMost(limit: (length: number) => number): void {
  const realWrite = fs.writeSync;
  jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: Buffer | string, offset?: number, length?: number) => {
    const buffer = typeof data === 'string' ? Buffer.from(data) : data;
    const start = typeof data === 'string' ? 0 : (offset ?? 0);
    const asked = typeof data === 'string' ? buffer.length : (length ?? buffer.length - start);
    return realWrite(fd, buffer, start, limit(asked));
  }) as typeof fs.writeSync);
}

/** write(2) as a nearly full disk does it: the first call writes part of the buffer, the next one fails. */
function diskFillsUpDuringTheNextWrite(): void {
  let calls = 0;
  writeAtMost((length) => {
    calls++;
    if (calls === 1) return Math.ceil(length / 2);
    throw noSpaceLeft();
  });
}

describe('MessageJournal.append', () => {
  it('keeps writing after a short write until the whole record is on disk', () => {
    const { journal } = open();
    writeAtMost((length) => Math.min(length, 7));
    journal.append([send('a'), send('b')]);
    jest.restoreAllMocks();
    journal.close();

    expect(readFileSync(path, 'utf8')).toBe(line(send('a')) + line(send('b')));
    expect(open().messages.map((message) => message.id)).toEqual(['a', 'b']);
  });

  it('fails an append the disk cannot hold, leaves no fragment, and the next append is intact', () => {
    const { journal } = open();
    journal.append([send('before')]);
    const before = readFileSync(path, 'utf8');

    diskFillsUpDuringTheNextWrite();
    expect(() => journal.append([send('refused', 'x'.repeat(10_000))])).toThrow(JournalWriteError);
    jest.restoreAllMocks();
    expect(readFileSync(path, 'utf8')).toBe(before);

    journal.append([send('after')]);
    journal.close();
    const reopened = open();
    expect(reopened.report.outcome).toBe('clean');
    expect(reopened.messages.map((message) => message.id)).toEqual(['before', 'after']);
  });

  it('refuses appends while a fragment cannot be truncated away, and resumes once it can', () => {
    quietly();
    const { journal } = open();
    journal.append([send('before')]);
    const before = readFileSync(path, 'utf8');

    diskFillsUpDuringTheNextWrite();
    const truncate = jest.spyOn(fs, 'ftruncateSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
    });
    expect(() => journal.append([send('refused', 'x'.repeat(10_000))])).toThrow(JournalWriteError);
    expect(readFileSync(path, 'utf8')).not.toBe(before); // the fragment is still there
    expect(() => journal.append([send('also refused')])).toThrow(/partly written record/);
    expect(console.error).toHaveBeenCalledWith(expect.stringContaining(path));

    truncate.mockRestore();
    jest.mocked(fs.writeSync).mockRestore();
    journal.append([send('after')]);
    journal.close();
    expect(readFileSync(path, 'utf8')).toBe(before + line(send('after')));
  });

  it('in fsync mode, rolls back an append whose fdatasync failed', () => {
    const { journal } = open(true);
    journal.append([send('before')]);
    jest.spyOn(fs, 'fdatasyncSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    });
    expect(() => journal.append([send('not durable')])).toThrow(JournalWriteError);
    journal.close();
    expect(open().messages.map((message) => message.id)).toEqual(['before']);
  });
});

describe('MessageJournal.open replay', () => {
  it('removes a last line without its newline as a torn tail and says so', () => {
    quietly();
    const torn = '{"op":"send","id":"half-wr';
    writeFileSync(path, line(send('a')) + line(send('b')) + torn);
    const { journal, messages, report } = open();
    journal.close();

    expect(messages.map((message) => message.id)).toEqual(['a', 'b']);
    expect(report).toEqual({ outcome: 'torn tail', intactRecords: 2, tornTailBytes: Buffer.byteLength(torn), corruptLines: [] });
    expect(console.warn).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`${path}: torn tail`)));
    expect(readFileSync(path, 'utf8')).not.toContain('half-wr');
  });

  it('treats an unparsable last line (a fragment glued to a later write) as a torn tail', () => {
    quietly();
    writeFileSync(path, line(send('a')) + '{"op":"send","id":"frag' + line(send('glued')));
    const { journal, messages, report } = open();
    journal.close();
    expect(messages.map((message) => message.id)).toEqual(['a']);
    expect(report.outcome).toBe('torn tail');
  });

  it('reports a bad line between good ones as corruption, keeps the file aside and recovers every intact record', () => {
    quietly();
    const original = line(send('a')) + 'garbage\n' + line(send('b')) + line({ op: 'delete', id: 'a' }) + '{"not":"a record"}\n' + line(send('c'));
    writeFileSync(path, original);
    const { journal, messages, report } = open();
    journal.close();

    expect(messages.map((message) => message.id)).toEqual(['b', 'c']);
    expect(report).toMatchObject({ outcome: 'corrupt', intactRecords: 4, corruptLines: [2, 5], tornTailBytes: 0 });
    expect(report.corruptCopy).toMatch(/q\.journal\.corrupt-/);
    expect(readFileSync(report.corruptCopy!, 'utf8')).toBe(original);
    expect(console.error).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`${path}: corrupt: lines 2, 5`)));
  });

  it('says nothing about a clean journal', () => {
    quietly();
    writeFileSync(path, line(send('a')));
    const { journal, report } = open();
    journal.close();
    expect(report).toEqual({ outcome: 'clean', intactRecords: 1, tornTailBytes: 0, corruptLines: [] });
    expect(console.warn).not.toHaveBeenCalled();
    expect(console.error).not.toHaveBeenCalled();
  });
});

describe('MessageJournal compaction', () => {
  it('keeps the old journal, without its torn tail, in use when compaction at open fails', () => {
    quietly();
    writeFileSync(path, line(send('a')) + line({ op: 'delete', id: 'a' }) + line(send('b')));
    appendFileSync(path, '{"op":"send","id":"torn');
    jest.spyOn(fs, 'renameSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, rename'), { code: 'ENOSPC' });
    });
    const { journal, messages } = open();
    expect(messages.map((message) => message.id)).toEqual(['b']);
    expect(existsSync(`${path}.compact`)).toBe(false);

    journal.append([send('c')]);
    journal.close();
    expect(readFileSync(path, 'utf8')).toBe(line(send('a')) + line({ op: 'delete', id: 'a' }) + line(send('b')) + line(send('c')));
    expect(open().report.outcome).toBe('clean');
  });

  it('keeps appending to the old journal when a compaction during use fails', () => {
    quietly();
    const { journal } = open();
    // 10,000 dead records make compaction worth it.
    for (let batch = 0; batch < 10; batch++) {
      const ids = Array.from({ length: 500 }, (_, index) => `dead-${batch}-${index}`);
      journal.append([...ids.map((id) => send(id)), ...ids.map((id): JournalRecord => ({ op: 'delete', id }))]);
    }
    journal.append([send('live')]);
    const live = [{ id: 'live', body: 'body of live', sentAt: 1, visibleAt: 0, receiveCount: 0 }];

    jest.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
      throw noSpaceLeft();
    });
    expect(() => journal.compactIfWorthIt(live, 1)).not.toThrow();
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining(`${path}: compaction failed`));
    expect(readdirSync(dir)).toEqual(['q.journal']);

    journal.append([send('after')]);
    journal.close();
    expect(open().messages.map((message) => message.id)).toEqual(['live', 'after']);
  });

  it('fsyncs the directory after the rename in fsync mode', () => {
    const syncedDirectories: string[] = [];
    const realOpen = fs.openSync;
    const opened = new Map<number, string>();
    jest.spyOn(fs, 'openSync').mockImplementation(((file: string, ...rest: never[]) => {
      const fd = (realOpen as (...args: unknown[]) => number)(file, ...rest);
      opened.set(fd, String(file));
      return fd;
    }) as typeof fs.openSync);
    const realFsync = fs.fsyncSync;
    jest.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
      syncedDirectories.push(opened.get(fd) ?? '?');
      realFsync(fd);
    });
    open(true).journal.close();
    expect(syncedDirectories).toEqual([dir]);
  });
});
