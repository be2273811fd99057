#!/usr/bin/env -S npx tsx
/** `npm run listen -- <channels>`: connects to the local WebSocket API and prints every event pushed to it. */
import WebSocket from 'ws';
import { dataDirectory, localAdminKey, portFromEnv } from '../lib/local/local-settings';

const channels = process.argv[2] ?? 'demo';
const baseUrl = process.env.HOOKHUB_WS_URL ?? `ws://127.0.0.1:${portFromEnv('WS_PORT', 3001)}`;
const url = `${baseUrl}/?token=${encodeURIComponent(localAdminKey(dataDirectory()))}&channels=${encodeURIComponent(channels)}`;
const socket = new WebSocket(url);
socket.on('open', () => console.log(`listening on ${channels} (Ctrl-C to stop)`));
socket.on('message', (data) => console.log(data.toString()));
socket.on('unexpected-response', (_request, response) => {
  console.error(`refused: HTTP ${response.statusCode}`);
  process.exit(1);
});
socket.on('error', (error) => {
  console.error(error.message);
  process.exit(1);
});
