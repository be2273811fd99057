/**
 * The baseline the benchmark compares hookhub against, run in the same session: a bare Node HTTP server that reads
 * the body and answers 202 (`POST /hooks/...`), and relays `POST /relay` bodies to every WebSocket client — the
 * floor that loopback HTTP + WebSocket cost with no verification, queue or storage.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const clients = new Set<WebSocket>();
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.url === '/relay') {
      const body = Buffer.concat(chunks).toString();
      for (const client of clients) client.send(body);
    }
    response.writeHead(202, { 'content-type': 'application/json' });
    response.end('{"accepted":1}');
  });
});
const sockets = new WebSocketServer({ server });
sockets.on('connection', (socket) => {
  clients.add(socket);
  socket.on('close', () => clients.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`baseline-ready ${JSON.stringify({ httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` })}`);
});
