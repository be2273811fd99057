#!/usr/bin/env -S npx tsx
/**
 * `npm start`: runs the local runtime until Ctrl-C (or SIGTERM).
 *
 * Everything is checked before anything starts, and whatever stops it from starting is said in one line per
 * problem on stderr with exit code 1: a stack trace or a later `ECONNREFUSED` says nothing to the person running it.
 */
import { startLocalRuntime, type LocalRuntime } from '../lib/local/local-runtime';
import { applyDevelopmentDefaults, dataDirectory, localAdminKey } from '../lib/local/local-settings';
import { checkAdminKey, checkStartupSettings, type LocalRuntimeSettings } from '../lib/local/startup-checks';
import { lockDataDirectory, type DataDirectoryLock } from '../lib/local/data-directory-lock';
import { StartupRefusedError, startupFailureLines, type RequestedPorts } from '../lib/local/startup-failure';
import { tryItCommands } from '../lib/local/try-it-commands';

/** Stacks are for debugging hookhub itself: shown only when its log level asks for detail. */
const showStacks = ['DEBUG', 'TRACE'].includes((process.env.HOOKHUB_LOG_LEVEL ?? '').toUpperCase());
let requestedPorts: RequestedPorts = {};
let running = false;

async function main(): Promise<void> {
  // Lambda runs Node 22; on a Node 20 workstation the SDK's upgrade notice is noise (see docs/decisions.md).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  applyDevelopmentDefaults();
  const checked = checkStartupSettings(process.env);
  if (!checked.ok) throw new StartupRefusedError(checked.problems);
  const { settings } = checked;
  requestedPorts = { PORT: settings.port, WS_PORT: settings.wsPort };

  const dataDir = dataDirectory();
  const lock = lockDataDirectory(dataDir);
  // Covers every way out, process.exit included; a kill -9 leaves a stale lock that the next start takes over.
  process.on('exit', () => lock.release());
  if (lock.tookOverFromPid !== undefined) {
    console.error(`hookhub: note: took over the lock on ${dataDir} from pid ${lock.tookOverFromPid}, which is no longer running`);
  }

  // Read before start: the runtime puts the key it uses into process.env for its handlers.
  const adminKeyFromEnvironment = Boolean(process.env.HOOKHUB_ADMIN_KEY);
  const adminKey = localAdminKey(dataDir);
  const storedKeyProblems = checkAdminKey(adminKey, `the admin key in ${dataDir}/admin-key`);
  if (storedKeyProblems.length > 0) throw new StartupRefusedError(storedKeyProblems.map((problem) => `${problem} (delete the file to get a new one)`));

  const stopper = stopOnSignals(lock);
  const runtime = await startLocalRuntime({
    config: settings.config,
    dataDir,
    port: settings.port,
    wsPort: settings.wsPort,
    adminKey,
    fsync: settings.fsync,
    logLevel: settings.logLevel,
    retentionDays: settings.retentionDays,
    outbound: settings.outbound,
  });
  printBanner(runtime, settings, { dataDir, adminKey, adminKeyFromEnvironment });
  running = true;
  stopper.runtimeStarted(runtime);
}

function printBanner(
  runtime: LocalRuntime,
  settings: LocalRuntimeSettings,
  { dataDir, adminKey, adminKeyFromEnvironment }: { dataDir: string; adminKey: string; adminKeyFromEnvironment: boolean },
): void {
  const sources = settings.config.sources.map((source) => `  POST ${runtime.httpUrl}/hooks/${source.id}   (${source.preset ? `preset ${source.preset}` : source.verification.scheme})`);
  const commands = tryItCommands({
    config: settings.config,
    httpUrl: runtime.httpUrl,
    wsUrl: runtime.wsUrl,
    dataDir,
    adminKey,
    adminKeyFromEnvironment,
    configPath: process.env.HOOKHUB_CONFIG || undefined,
  });
  const width = Math.max(...commands.map(({ command }) => command.length));
  console.log(`
hookhub local runtime is running (data in ${dataDir})

Webhook sources:
${sources.join('\n')}
Read API:   ${runtime.httpUrl}/api/events   ${runtime.httpUrl}/health
Outbound:   ${runtime.httpUrl}/api/endpoints   ${runtime.httpUrl}/api/messages   (reaches ${settings.outbound.allowPrivateTargets || 'global addresses only'})
WebSocket:  ${runtime.wsUrl}/?token=<admin key>&channels=demo
Admin key:  ${adminKey}

Try it (in another terminal):
${commands.map(({ command, comment }) => `  ${command.padEnd(width)}  # ${comment}`).join('\n')}
`);
  // One machine-readable line for scripts and tests that start the runtime as a child process.
  console.log(`hookhub-ready ${JSON.stringify({ httpUrl: runtime.httpUrl, wsUrl: runtime.wsUrl, adminKey })}`);
}

/**
 * A clean stop says so and releases the data dir. A signal during start-up, or a second one while stopping, exits
 * at once: the queue journal and the store survive that like any crash, and a person pressing Ctrl-C twice wants out.
 */
function stopOnSignals(lock: DataDirectoryLock): { runtimeStarted(runtime: LocalRuntime): void } {
  let runtime: LocalRuntime | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (!runtime) {
      console.log(`hookhub: start-up interrupted (${signal})`);
      process.exit(1);
    }
    if (stopping) {
      console.log(`hookhub: stopping now (second ${signal}); anything unfinished is picked up at the next start`);
      process.exit(1);
    }
    stopping = true;
    console.log(`hookhub: stopping (${signal})…`);
    runtime.stop().then(
      () => {
        lock.release();
        console.log('hookhub: stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`hookhub: stop failed: ${startupFailureLines(error).join('; ')}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return { runtimeStarted: (started) => (runtime = started) };
}

/**
 * Whatever stops the start-up, or an error nothing caught once running (which would leave a half-working runtime):
 * say why, and exit 1.
 */
function exitOnFatalError(error: unknown): never {
  const lines = startupFailureLines(error, requestedPorts);
  if (running) console.error(`hookhub: stopping after a fatal error: ${lines.join('; ')}`);
  else for (const line of lines) console.error(`hookhub: cannot start: ${line}`);
  if (showStacks && error instanceof Error && !(error instanceof StartupRefusedError)) console.error(error.stack);
  process.exit(1);
}
process.on('uncaughtException', exitOnFatalError);
process.on('unhandledRejection', exitOnFatalError);

main().catch(exitOnFatalError);
