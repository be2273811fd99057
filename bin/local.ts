#!/usr/bin/env -S npx tsx
/** `npm start`: runs the local runtime until Ctrl-C. */
import { startLocalRuntime } from '../lib/local/local-runtime';
import { applyDevelopmentDefaults, dataDirectory, localAdminKey, portFromEnv } from '../lib/local/local-settings';
import { loadConfigFile } from '../lib/config-file';

async function main(): Promise<void> {
  // Lambda runs Node 22; on a Node 20 workstation the SDK's upgrade notice is noise (see docs/decisions.md).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  applyDevelopmentDefaults();
  const dataDir = dataDirectory();
  const adminKey = localAdminKey(dataDir);
  const config = loadConfigFile();
  const runtime = await startLocalRuntime({
    config,
    dataDir,
    port: portFromEnv('PORT', 3000),
    wsPort: portFromEnv('WS_PORT', 3001),
    adminKey,
    fsync: process.env.HOOKHUB_QUEUE_FSYNC === '1',
    logLevel: process.env.HOOKHUB_LOG_LEVEL ?? 'WARN',
  });

  const sources = config.sources.map((source) => `  POST ${runtime.httpUrl}/hooks/${source.id}   (${source.verification.scheme})`);
  console.log(`
hookhub local runtime is running (data in ${dataDir})

Webhook sources:
${sources.join('\n')}
Read API:   ${runtime.httpUrl}/api/events   ${runtime.httpUrl}/health
WebSocket:  ${runtime.wsUrl}/?token=<admin key>&channels=demo
Admin key:  ${adminKey}

Try it (in another terminal):
  npm run listen -- demo                    # watch events arrive over WebSocket
  npm run send -- demo '{"hello":"world"}'  # send a signed demo event
  curl -H "Authorization: Bearer ${adminKey}" ${runtime.httpUrl}/api/events
`);
  // One machine-readable line for scripts and tests that start the runtime as a child process.
  console.log(`hookhub-ready ${JSON.stringify({ httpUrl: runtime.httpUrl, wsUrl: runtime.wsUrl, adminKey })}`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    runtime.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
