// Runs dynalite on its own thread so DynamoDB work uses the second core instead of competing with the handlers on
// the main thread. Plain JavaScript on purpose: a worker thread does not inherit tsx's or jest's TypeScript loader.
//
// dynalite's LevelDB (level 10 → classic-level 3 over abstract-level 3) is patched here, before dynalite creates it,
// for what dynalite does not do itself:
// - fsync mode: every write is passed `sync: true`, so LevelDB fdatasyncs its log before the write is acknowledged.
// - A failed write (ENOSPC) leaves LevelDB unusable until it is reopened: a failed flush of its memtable latches an
//   error that fails every later write, and a failed log write leaves a fragment that would swallow the records
//   written after it when the log is next replayed. So writes go to LevelDB one at a time; after the first one that
//   fails with an IO error nothing more is written, and the database is closed and reopened (which replays the log
//   and starts a new one) until that succeeds, which is once space is back. Meanwhile every request gets a 500, and
//   the SDK, SQS or the provider retries.
// - dynalite throws any error without a `statusCode` from its request callbacks, which would end this thread: every
//   LevelDB error is given one, so dynalite answers 500 InternalServerError instead. (One path remains: its key
//   streams, used by ListTables and DeleteTable, drop errors on the floor; if one fails while the store is being
//   reopened the thread ends, and LocalDynamoDb starts a new one.)
'use strict';
const { closeSync, fsyncSync, openSync } = require('node:fs');
const { dirname } = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');

const dynalitePath = require.resolve('dynalite');
// The class dynalite's `new Level(path)` constructs, resolved from dynalite's own dependency tree.
const { Level } = require(require.resolve('level', { paths: [dirname(dynalitePath)] }));
const dynalite = require(dynalitePath);

const fsync = workerData.fsync === true;
/** 'open'; 'recovering' after a write failed, until the reopen succeeds; 'stopping' once asked to close. */
let state = 'open';
/** The last write handed to LevelDB: the next one waits for it, so a failure is known before anything follows it. */
let lastWrite = Promise.resolve();

function serviceError(error) {
  if (error && typeof error === 'object' && error.statusCode) return error;
  const message = error instanceof Error ? error.message : String(error);
  // dynalite turns LEVEL_DATABASE_NOT_OPEN into a plain Error again, so that code must not survive.
  const wrapped = new Error(message, { cause: error });
  wrapped.code = 'HOOKHUB_STORE_ERROR';
  wrapped.statusCode = 500;
  wrapped.body = { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: `local DynamoDB store: ${message}` };
  return wrapped;
}

function unavailable() {
  return serviceError(new Error(state === 'stopping' ? 'the store is stopping' : 'the store is being reopened after a failure; retry later'));
}

function withSync(options) {
  return fsync ? { ...options, sync: true } : options;
}

/** Runs `write` after every earlier write has finished, and only while the store is healthy. */
function serialized(db, write) {
  const result = lastWrite.then(async () => {
    if (state !== 'open') throw unavailable();
    try {
      return await write();
    } catch (error) {
      recoverIfBroken(db, error);
      throw error;
    }
  });
  lastWrite = result.catch(() => undefined);
  return result.catch((error) => {
    throw serviceError(error);
  });
}

const closeLevel = Level.prototype.close; // abstract-level's: dynalite's own close on the instance ends it for good
const put = Level.prototype.put;
Level.prototype.put = function (key, value, options) {
  return serialized(this, () => put.call(this, key, value, withSync(options)));
};
const del = Level.prototype.del;
Level.prototype.del = function (key, options) {
  return serialized(this, () => del.call(this, key, withSync(options)));
};
const batch = Level.prototype.batch;
Level.prototype.batch = function (operations, options) {
  if (arguments.length === 0) {
    // A chained batch (dynalite uses none): its write() is the one that reaches LevelDB.
    const chained = batch.call(this);
    const write = chained.write;
    chained.write = (writeOptions) => serialized(this, () => write.call(chained, withSync(writeOptions)));
    return chained;
  }
  return serialized(this, () => batch.call(this, operations, withSync(options)));
};
const get = Level.prototype.get;
Level.prototype.get = function (key, options) {
  if (state !== 'open') return Promise.reject(unavailable());
  return get.call(this, key, options).catch((error) => {
    recoverIfBroken(this, error);
    throw serviceError(error);
  });
};
for (const name of ['iterator', 'keys', 'values']) {
  const open = Level.prototype[name];
  Level.prototype[name] = function (options) {
    if (state !== 'open') return failingIterator();
    let iterator;
    try {
      iterator = open.call(this, options);
    } catch (error) {
      recoverIfBroken(this, error);
      return failingIterator();
    }
    const next = iterator.next;
    iterator.next = function (...args) {
      return next.apply(this, args).catch((error) => {
        throw serviceError(error);
      });
    };
    return iterator;
  };
}

/** abstract-level wraps the reason an open failed (ENOSPC) in a generic "Database failed to open". */
function describe(error) {
  const cause = error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}

function failingIterator() {
  const fail = () => Promise.reject(unavailable());
  return { next: fail, nextv: fail, all: fail, seek() {}, close: async () => undefined };
}

/** A write failed with an IO error (LevelDB is now unusable), or the database did not open (at start). */
function recoverIfBroken(db, error) {
  const code = error && error.code;
  if (code === 'LEVEL_IO_ERROR') void recover(db, 'write', error);
  else if (code === 'LEVEL_DATABASE_NOT_OPEN' && db.status === 'closed') void recover(db, 'open', error);
}

// Whether LevelDB ever opened here: a reopen must find the database it had, never create an empty one in its place
// (say the data directory's disk was unmounted meanwhile).
let everOpened = false;
const openLevel = Level.prototype._open;
Level.prototype._open = async function (options) {
  await openLevel.call(this, options);
  if (fsync) {
    // Opening switches LevelDB's CURRENT file to a new manifest by a rename that LevelDB 1.20 never makes durable;
    // a power cut could leave CURRENT naming a manifest that was never synced, and the store would not open.
    try {
      syncDirectory(this.location);
    } catch (error) {
      await this._close().catch(() => undefined);
      throw error;
    }
  }
  everOpened = true;
};

function syncDirectory(directory) {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function recover(db, failed, cause) {
  if (state !== 'open') return;
  state = 'recovering';
  parentPort.postMessage({ type: 'store-failed', failed, message: describe(cause) });
  for (let attempt = 1; state === 'recovering'; attempt++) {
    try {
      await closeLevel.call(db);
      await db.open({ createIfMissing: !everOpened });
      if (state !== 'recovering') return; // asked to stop meanwhile
      state = 'open';
      parentPort.postMessage({ type: 'store-recovered', attempts: attempt });
      return;
    } catch (error) {
      if (attempt === 1) parentPort.postMessage({ type: 'store-retrying', message: describe(error) });
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 1_000)));
    }
  }
}

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
server.on('error', (error) => parentPort.postMessage({ type: 'error', message: error.message }));
parentPort.on('message', (message) => {
  if (message === 'close') {
    state = 'stopping';
    server.close(() => parentPort.postMessage({ type: 'closed' }));
  }
});
