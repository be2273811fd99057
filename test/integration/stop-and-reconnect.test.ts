/**
 * Stopping and restarting the runtime under a connected client: the runtime says it is stopping and that it
 * stopped, `npm run listen` says the connection is lost, keeps retrying with backoff, says when it is back, and
 * receives events again, all on the same ports and data directory. A refused handshake ends listen with a reason.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binCommand, killHard, REPO_ROOT, startRuntimeProcess, stopRuntime, type RuntimeProcess } from '../fixtures/runtime-process';
import { spawnWatched, type WatchedProcess } from '../fixtures/watched-process';

const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-restart-'));
const runtimes: RuntimeProcess[] = [];
const helpers: WatchedProcess[] = [];

afterAll(async () => {
  await Promise.all(helpers.map((helper) => helper.stop('SIGKILL').catch(() => undefined)));
  await Promise.all(runtimes.map(killHard));
  rmSync(dataDir, { recursive: true, force: true });
});

async function startRuntime(environment: Record<string, string>): Promise<RuntimeProcess> {
  const runtime = await startRuntimeProcess(environment);
  runtimes.push(runtime);
  return runtime;
}

function runHelper(script: 'listen.ts' | 'send.ts', args: string[], environment: Record<string, string>): WatchedProcess {
  const [command, commandArgs] = binCommand(script, args);
  const helper = spawnWatched(command, commandArgs, { cwd: REPO_ROOT, env: { ...process.env, ...environment } });
  helpers.push(helper);
  return helper;
}

/** A port nothing listens on right now, so the runtime can be restarted on the very same one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

it('says when it stops; listen reports the loss, reconnects to the restarted runtime and receives events again', async () => {
  const [port, wsPort] = [await freePort(), await freePort()];
  const runtimeEnvironment = { HOOKHUB_DATA_DIR: dataDir, PORT: String(port), WS_PORT: String(wsPort) };
  const helperEnvironment = { HOOKHUB_DATA_DIR: dataDir, HOOKHUB_URL: `http://127.0.0.1:${port}`, HOOKHUB_WS_URL: `ws://127.0.0.1:${wsPort}` };

  const first = await startRuntime(runtimeEnvironment);
  const listen = runHelper('listen.ts', ['demo'], helperEnvironment);
  await listen.waitFor(/^listening on demo/m, 'listen to connect');

  expect(await stopRuntime(first, 'SIGTERM')).toEqual({ code: 0, signal: null });
  const stopLines = first.output().split('\n').filter((line) => line.startsWith('hookhub: '));
  expect(stopLines).toEqual(['hookhub: stopping (SIGTERM)…', 'hookhub: stopped']);
  expect(existsSync(join(dataDir, 'runtime.lock'))).toBe(false);
  await listen.waitFor(/^connection lost \(code \d+\); reconnecting in \d+\.\ds$/m, 'listen to report the lost connection');

  await startRuntime(runtimeEnvironment);
  await listen.waitFor(/^reconnected; listening on demo$/m, 'listen to reconnect', 45_000);

  const marker = `restart-${Date.now()}`;
  const send = runHelper('send.ts', ['demo', JSON.stringify({ type: 'demo.restart', marker })], helperEnvironment);
  expect(await send.waitForExit()).toEqual({ code: 0, signal: null });
  expect(send.stdout()).toMatch(/^202 /);
  const received = await listen.waitFor(new RegExp(`^\\{"type":"event".*"${marker}".*$`, 'm'), 'the event sent after the restart');
  expect(JSON.parse(received[0])).toMatchObject({ type: 'event', event: { type: 'demo.restart', payload: { marker } } });
  expect(listen.child.exitCode).toBeNull();
}, 120_000);

it('ends listen with a clear line when the runtime refuses its admin key', async () => {
  const runtime = await startRuntime({ HOOKHUB_DATA_DIR: mkdtempSync(join(dataDir, 'refusing-')) });
  const listen = runHelper('listen.ts', ['demo'], { HOOKHUB_WS_URL: runtime.wsUrl, HOOKHUB_ADMIN_KEY: 'not-the-admin-key-0123' });
  expect(await listen.waitForExit()).toEqual({ code: 1, signal: null });
  expect(listen.stderr().trim()).toBe(
    `listen: ${runtime.wsUrl} refused the admin key (HTTP 401); use the key of the runtime listening there (HOOKHUB_ADMIN_KEY or HOOKHUB_DATA_DIR)`,
  );
  await stopRuntime(runtime);
});
