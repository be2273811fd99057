/**
 * `npm start` as a person meets it, with the real runtime as a child process on loopback: settings that would only
 * fail later are refused at start with one line naming the variable; one runtime per data directory; a directory
 * it cannot write is refused with the reason; and the "try it" commands it prints work exactly as printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runRuntimeUntilExit, startRuntimeProcess, stopRuntime, killHard, type RuntimeProcess } from '../fixtures/runtime-process';
import { spawnWatched, type WatchedProcess } from '../fixtures/watched-process';

const scratch = mkdtempSync(join(tmpdir(), 'hookhub-startup-'));
const runtimes: RuntimeProcess[] = [];
const helpers: WatchedProcess[] = [];
let scratchCount = 0;
const freshDirectory = (name: string) => join(scratch, `${name}-${++scratchCount}`);
const readOnlyDirectory = readOnlyDirectoryStrategy();

afterAll(async () => {
  await Promise.all(helpers.map((helper) => helper.stop('SIGKILL').catch(() => undefined)));
  await Promise.all(runtimes.map(killHard));
  rmSync(scratch, { recursive: true, force: true });
});

async function started(environment: Record<string, string>): Promise<RuntimeProcess> {
  const runtime = await startRuntimeProcess(environment);
  runtimes.push(runtime);
  return runtime;
}

/** Lines on stderr, so a test can require exactly one line per problem and nothing else (no stack). */
const linesOf = (text: string) => text.split('\n').filter((line) => line.length > 0);

describe('start-up checks', () => {
  it('refuses to start when a source secret is unset or the admin key is short, one line each, and touches nothing', async () => {
    const config = join(scratch, 'unset-secret.json');
    writeFileSync(config, JSON.stringify({
      sources: [{ id: 'github', verification: { scheme: 'hmac', header: 'X-Hub-Signature-256' }, secret: { env: 'HOOKHUB_IT_UNSET_SECRET' } }],
    }));
    const dataDir = freshDirectory('refused');
    const result = await runRuntimeUntilExit({ HOOKHUB_CONFIG: config, HOOKHUB_DATA_DIR: dataDir, HOOKHUB_ADMIN_KEY: 'abcde' });

    expect(result.exit.code).toBe(1);
    expect(linesOf(result.stderr)).toEqual([
      'hookhub: cannot start: HOOKHUB_IT_UNSET_SECRET is not set (source "github" needs its secret)',
      'hookhub: cannot start: HOOKHUB_ADMIN_KEY is 5 characters; it must be at least 16',
    ]);
    expect(result.stdout).not.toContain('hookhub-ready');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('turns an error from inside the start (a port already taken) into one line naming the variable', async () => {
    const occupied = await listeningServer();
    const port = (occupied.address() as AddressInfo).port;
    const dataDir = freshDirectory('port-taken');
    try {
      const result = await runRuntimeUntilExit({ HOOKHUB_DATA_DIR: dataDir, PORT: String(port) });
      expect(result.exit.code).toBe(1);
      expect(linesOf(result.stderr)).toEqual([
        `hookhub: cannot start: port ${port} is already in use; stop what listens there, or set PORT to another port (0 picks a free one)`,
      ]);
      // The lock taken before the failure was released on the way out.
      expect(existsSync(join(dataDir, 'runtime.lock'))).toBe(false);
    } finally {
      await new Promise((resolve) => occupied.close(resolve));
    }
  });
});

describe('data directory lock', () => {
  it('refuses a second runtime on the same data directory, naming it and the pid that holds it', async () => {
    const dataDir = freshDirectory('shared');
    const first = await started({ HOOKHUB_DATA_DIR: dataDir });

    const second = await runRuntimeUntilExit({ HOOKHUB_DATA_DIR: dataDir });
    expect(second.exit.code).toBe(1);
    expect(linesOf(second.stderr)).toEqual([
      `hookhub: cannot start: data directory ${dataDir} is in use by another hookhub runtime (pid ${first.child.pid}); stop it, or set HOOKHUB_DATA_DIR to another directory`,
    ]);
    // The first runtime is untouched, and a clean stop releases the directory.
    const health = await fetch(`${first.httpUrl}/health`, { headers: { authorization: `Bearer ${first.adminKey}` }, signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    expect(await stopRuntime(first)).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, 'runtime.lock'))).toBe(false);
  });

  it('takes over a stale lock left by a runtime that is gone, with a note', async () => {
    const dataDir = freshDirectory('stale');
    mkdirSync(dataDir);
    const { pid: deadPid } = spawnSync(process.execPath, ['-e', '']);
    writeFileSync(join(dataDir, 'runtime.lock'), `${deadPid}\n`);

    const runtime = await started({ HOOKHUB_DATA_DIR: dataDir });
    expect(runtime.output()).toContain(`hookhub: note: took over the lock on ${dataDir} from pid ${deadPid}, which is no longer running`);
    expect(readFileSync(join(dataDir, 'runtime.lock'), 'utf8').trim()).toBe(String(runtime.child.pid));
    await stopRuntime(runtime);
  });

  it('refuses a data directory under a regular file, saying why', async () => {
    const file = join(scratch, 'plain-file');
    writeFileSync(file, '');
    const dataDir = join(file, 'data');
    const result = await runRuntimeUntilExit({ HOOKHUB_DATA_DIR: dataDir });
    expect(result.exit.code).toBe(1);
    expect(linesOf(result.stderr)).toEqual([
      `hookhub: cannot start: data directory ${dataDir} is not writable (ENOTDIR: a part of its path is a file, not a directory); set HOOKHUB_DATA_DIR to a writable directory`,
    ]);
  });

  (readOnlyDirectory ? it : it.skip)(`refuses a read-only data directory, saying why (${readOnlyDirectory?.how ?? 'no way to make one here'})`, async () => {
    const dataDir = readOnlyDirectory!.create();
    try {
      const result = await runRuntimeUntilExit({ HOOKHUB_DATA_DIR: dataDir });
      expect(result.exit.code).toBe(1);
      expect(linesOf(result.stderr)).toEqual([
        expect.stringMatching(
          new RegExp(`^hookhub: cannot start: data directory ${dataDir} is not writable \\((EROFS|EACCES): [^)]+\\); set HOOKHUB_DATA_DIR to a writable directory$`),
        ),
      ]);
    } finally {
      readOnlyDirectory!.remove(dataDir);
    }
  });
});

describe('try-it commands', () => {
  it('prints listen and send commands that work exactly as printed on ports and a data dir that are not the defaults', async () => {
    const dataDir = freshDirectory('try-it');
    const runtime = await started({ HOOKHUB_DATA_DIR: dataDir, PORT: '0', WS_PORT: '0' });
    const listenLine = /^ {2}(\S.*npm run listen -- .*)$/m.exec(runtime.output())?.[1];
    const sendLine = /^ {2}(\S.*npm run send -- .*)$/m.exec(runtime.output())?.[1];
    expect(listenLine).toContain(`HOOKHUB_WS_URL=${runtime.wsUrl} HOOKHUB_DATA_DIR=${dataDir} npm run listen -- demo`);
    expect(sendLine).toContain(`HOOKHUB_URL=${runtime.httpUrl} npm run send -- demo '{"hello":"world"}'`);

    // Pasted into a shell whose environment knows nothing of this runtime.
    const shell = (line: string) => {
      const helper = spawnWatched('sh', ['-c', line], { cwd: REPO_ROOT, env: environmentWithoutHookhubSettings(), detached: true });
      helpers.push(helper);
      return helper;
    };
    const listen = shell(listenLine!);
    await listen.waitFor(/listening on demo/, 'listen to connect');
    const send = shell(sendLine!);
    expect(await send.waitForExit()).toEqual({ code: 0, signal: null });
    expect(send.stdout()).toMatch(/^202 \{"accepted":1/m);
    const event = await listen.waitFor(/^\{"type":"event".*$/m, 'the event on the listen side');
    expect(JSON.parse(event[0])).toMatchObject({ type: 'event', event: { source: 'demo', channel: 'demo', payload: { hello: 'world' } } });
    await listen.stop('SIGTERM');
    await stopRuntime(runtime);
  });
});

/** process.env without the settings the printed commands are supposed to carry themselves. */
function environmentWithoutHookhubSettings(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(PORT|WS_PORT|HOOKHUB_.+)$/.test(name)));
}

function listeningServer(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/**
 * How this machine can give the runtime a directory it cannot write. As an ordinary user, chmod 0555 does it. As
 * root (CI containers, this repository's sandbox) permission bits do not stop writes, so a read-only tmpfs is
 * mounted instead when mount is permitted; where neither works the test is skipped, and says so in its name.
 */
function readOnlyDirectoryStrategy(): { how: string; create(): string; remove(path: string): void } | undefined {
  if (process.getuid?.() !== 0) {
    return {
      how: 'chmod 0555',
      create: () => {
        const path = freshDirectory('read-only');
        mkdirSync(path, { mode: 0o555 });
        chmodSync(path, 0o555);
        return path;
      },
      remove: (path) => chmodSync(path, 0o755),
    };
  }
  const mountReadOnly = (path: string) => execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'hookhub-read-only', path], { stdio: 'ignore' });
  const probe = mkdtempSync(join(tmpdir(), 'hookhub-mount-probe-'));
  try {
    mountReadOnly(probe);
    execFileSync('umount', [probe], { stdio: 'ignore' });
  } catch {
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
  return {
    how: 'a read-only tmpfs mount, since root ignores chmod',
    create: () => {
      const path = freshDirectory('read-only');
      mkdirSync(path);
      mountReadOnly(path);
      return path;
    },
    remove: (path) => execFileSync('umount', [path], { stdio: 'ignore' }),
  };
}
