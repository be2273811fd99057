#!/usr/bin/env -S npx tsx
/**
 * `npm run listen -- <channels>`: connects to the local WebSocket API and prints every event pushed to it.
 *
 * It behaves as a frontend should: when the connection drops it says so and reconnects with capped, jittered
 * backoff, and says when it is back. A refusal at the handshake (wrong admin key, bad channel pattern) is not
 * something retrying can fix, so it exits with the reason. Events go to stdout, one JSON object a line; what
 * happens to the connection goes to stderr.
 * HOOKHUB_WS_URL overrides the target (default ws://127.0.0.1:$WS_PORT); the admin key is HOOKHUB_ADMIN_KEY or the
 * one the runtime keeps in HOOKHUB_DATA_DIR.
 */
import WebSocket from 'ws';
import { adminKeyPath, dataDirectory, localWebSocketUrl, readLocalAdminKey } from '../lib/local/local-settings';
import { reconnectDelayMs } from '../lib/local/reconnect-backoff';

const channels = process.argv[2] ?? 'demo';

function fail(message: string): never {
  console.error(`listen: ${message}`);
  process.exit(1);
}

function targetUrl(): string {
  let baseUrl: string;
  try {
    baseUrl = localWebSocketUrl();
  } catch (error) {
    fail((error as Error).message);
  }
  let protocol: string;
  try {
    protocol = new URL(baseUrl).protocol;
  } catch {
    fail(`HOOKHUB_WS_URL is "${baseUrl}"; it must be a URL such as ws://127.0.0.1:3001`);
  }
  if (protocol !== 'ws:' && protocol !== 'wss:') fail(`HOOKHUB_WS_URL is "${baseUrl}"; it must start with ws:// or wss://`);
  return baseUrl;
}

const baseUrl = targetUrl();
const dataDir = dataDirectory();
/** Consecutive failed attempts since the last open connection; drives the backoff. */
let failedAttempts = 0;
let everConnected = false;

function connect(): void {
  // Read on every attempt: a runtime restarted on a fresh data dir has a new key.
  const adminKey = readLocalAdminKey(dataDir);
  if (adminKey === undefined) {
    if (!everConnected) {
      fail(`no admin key: HOOKHUB_ADMIN_KEY is not set and ${adminKeyPath(dataDir)} does not exist; start the runtime first (npm start), or set HOOKHUB_DATA_DIR to its data directory`);
    }
    return retryLater(`no admin key in ${dataDir} yet`);
  }
  const socket = new WebSocket(`${baseUrl}/?token=${encodeURIComponent(adminKey)}&channels=${encodeURIComponent(channels)}`);
  let opened = false;
  let failure = 'closed';

  socket.on('open', () => {
    opened = true;
    failedAttempts = 0;
    console.error(everConnected ? `reconnected; listening on ${channels}` : `listening on ${channels} at ${baseUrl} (Ctrl-C to stop)`);
    everConnected = true;
  });
  socket.on('message', (data) => console.log(data.toString()));
  socket.on('unexpected-response', (_request, response) => {
    const status = response.statusCode ?? 0;
    if (status === 401) fail(`${baseUrl} refused the admin key (HTTP 401); use the key of the runtime listening there (HOOKHUB_ADMIN_KEY or HOOKHUB_DATA_DIR)`);
    if (status >= 400 && status < 500) fail(`${baseUrl} refused the connection (HTTP ${status}); check the channels "${channels}"`);
    // A 5xx may pass once the runtime is fully up: abort this handshake; its close schedules the retry.
    failure = `HTTP ${status}`;
    socket.terminate();
  });
  // Only remembered: 'close' always follows and decides what to do.
  socket.on('error', (error: NodeJS.ErrnoException) => (failure = error.code ?? error.message));
  socket.on('close', (code) => {
    if (opened) {
      const delayMs = reconnectDelayMs(failedAttempts++);
      console.error(`connection lost (code ${code}); reconnecting in ${seconds(delayMs)}`);
      setTimeout(connect, delayMs);
    } else {
      retryLater(failure);
    }
  });
}

function retryLater(reason: string): void {
  const delayMs = reconnectDelayMs(failedAttempts++);
  const what = everConnected ? 'reconnect failed' : `cannot connect to ${baseUrl}`;
  console.error(`${what} (${reason}); retrying in ${seconds(delayMs)}`);
  setTimeout(connect, delayMs);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

connect();
