// Starts a worker thread on a TypeScript module of this repository (workerData.module). Plain JavaScript on purpose:
// a worker thread does not inherit jest's transform, and under tsx it may or may not inherit the loader, so tsx's
// require hook is registered here either way (registering it twice is harmless).
'use strict';
const { workerData } = require('node:worker_threads');
require('tsx/cjs/api').register();
require(workerData.module);
