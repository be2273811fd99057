/**
 * A WebSocket client must never be able to stop the local runtime. Each case runs `npm start`'s entry point as a
 * child process and misbehaves the way a broken or hostile client would, then checks that the runtime is still
 * running and still serves a well-behaved client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { killHard, startRuntimeProcess, stopRuntime, type RuntimeProcess } from '../fixtures/runtime-process';
import { connectRealtime, waitUntil, type RealtimeClient } from '../fixtures/local-clients';
import { MAX_WEBSOCKET_MESSAGE_BYTES } from '../../lambdas/core/realtime/message-limit';

const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-ws-abuse-'));
let runtime: RuntimeProcess;
let clients: RealtimeClient[] = [];

// A runtime per case, so a crash in one case is reported there and not as a refused connection in the next.
beforeEach(async () => {
  runtime = await startRuntimeProcess({ HOOKHUB_DATA_DIR: mkdtempSync(join(dataDir, 'case-')) });
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  if (runtime.child.exitCode === null && runtime.child.signalCode === null) await stopRuntime(runtime);
  await killHard(runtime);
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function listen(channels: string): Promise<RealtimeClient> {
  const client = await connectRealtime(runtime.wsUrl, runtime.adminKey, channels);
  clients.push(client);
  return client;
}

/** Resolves with the close code the client saw; rejects if the socket is still open after `timeoutMs`. */
function closeCode(socket: WebSocket, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    if (socket.readyState === WebSocket.CLOSED) return reject(new Error('socket was already closed'));
    const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    socket.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** The runtime process is alive and a well-behaved client can still connect, subscribe and get its reply. */
async function expectStillServing(): Promise<void> {
  try {
    await serveWellBehavedClient();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- runtime output ---\n${runtime.output()}`, { cause: error });
  }
}

async function serveWellBehavedClient(): Promise<void> {
  expect({ exitCode: runtime.child.exitCode, signal: runtime.child.signalCode }).toEqual({ exitCode: null, signal: null });
  const client = await listen('');
  client.socket.send(JSON.stringify({ action: 'subscribe', channels: ['still-up'] }));
  await waitUntil(async () => client.messages.some((message) => message.type === 'subscribed'), 10_000, 'the reply to a subscribe');
  const health = await fetch(`${runtime.httpUrl}/health`, { headers: { authorization: `Bearer ${runtime.adminKey}` }, signal: AbortSignal.timeout(10_000) });
  expect(health.status).toBe(200);
}

describe('a misbehaving WebSocket client', () => {
  it('that sends a text frame over the message limit is closed with 1009 and the runtime keeps serving', async () => {
    const bystander = await listen('demo');
    const client = await listen('demo');
    const closed = closeCode(client.socket);
    client.socket.send('x'.repeat(MAX_WEBSOCKET_MESSAGE_BYTES + 1));
    expect(await closed).toBe(1009);
    await expectStillServing();
    expect(bystander.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('that sends a text frame of invalid UTF-8 is closed with 1007 and the runtime keeps serving', async () => {
    const client = await listen('demo');
    const closed = closeCode(client.socket);
    // The ws client does not validate what it sends, so this goes out as a text frame carrying bytes that are not UTF-8.
    client.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await closed).toBe(1007);
    await expectStillServing();
  });

  it('that resets its connection in the middle of the handshake does not stop the runtime', async () => {
    // Several attempts, each reset at a different point: before the $connect handler answers, and as it answers.
    for (let attempt = 0; attempt < 10; attempt++) {
      await resetDuringHandshake(attempt % 2 === 0 ? runtime.adminKey : 'not-the-admin-key', attempt);
    }
    await expectStillServing();
  });
});

describe('a misbehaving HTTP client', () => {
  // Node's HTTP server already answers a malformed request with 400 and absorbs resets; this guards that it stays so.
  it('that sends garbage or resets mid-body does not stop the runtime', async () => {
    const { hostname, port } = new URL(runtime.httpUrl);
    for (let attempt = 0; attempt < 5; attempt++) {
      await rawExchange(Number(port), hostname, 'NOT HTTP AT ALL\r\n\r\n', 20);
      await rawExchange(Number(port), hostname, `POST /hooks/demo HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: 100000\r\n\r\n{"partial":`, attempt);
    }
    await expectStillServing();
  });
});

/** Writes `request` over a raw TCP socket and resets the connection (RST) after `delayMs`. */
function rawExchange(port: number, hostname: string, request: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, hostname, () => {
      socket.write(request);
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve();
      }, delayMs);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

/** Sends a WebSocket upgrade request and resets the connection (RST) after `delayMs`. */
function resetDuringHandshake(token: string, delayMs: number): Promise<void> {
  const { hostname, port } = new URL(runtime.wsUrl);
  const upgrade = [
    `GET /?token=${encodeURIComponent(token)}&channels=demo HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');
  return rawExchange(Number(port), hostname, upgrade, delayMs);
}
