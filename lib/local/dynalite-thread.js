// Runs dynalite on its own thread so DynamoDB work uses the second core instead of competing with the handlers on
// the main thread. Plain JavaScript on purpose: a worker thread does not inherit tsx's or jest's TypeScript loader.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require('dynalite');

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
server.on('error', (error) => parentPort.postMessage({ type: 'error', message: error.message }));
parentPort.on('message', (message) => {
  if (message === 'close') server.close(() => parentPort.postMessage({ type: 'closed' }));
});
