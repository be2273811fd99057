/**
 * Plays API Gateway's WebSocket API on loopback. Upgrades go through the $connect handler (a non-2xx answer
 * refuses the handshake), frames go to $default, closes to $disconnect. Plain HTTP requests on the same port are
 * the `@connections` management API, so the handlers' real ApiGatewayManagementApiClient talks to it unchanged:
 * POST sends, GET describes, DELETE closes, and an unknown id answers 410 GoneException.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes, randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WebSocketRouteEvent } from '../../lambdas/handlers/websocket/websocket-event';
import { lambdaContext } from './lambda-context';
import { parseRequestTarget } from './request-target';
import { headersFromRawPairs } from '../../lambdas/core/verification/header-map';
import { nameValueMapOf } from '../../lambdas/core/name-value-map';
import { MAX_WEBSOCKET_MESSAGE_BYTES } from '../../lambdas/core/realtime/message-limit';

/**
 * Bytes a connection may have queued and not yet taken by its socket before it counts as a slow consumer. The kernel
 * buffers megabytes before anything queues here, so only a client that has stopped reading gets this far; eight
 * full-size messages is room for a burst.
 */
export const SLOW_CONSUMER_BACKLOG_BYTES = 8 * MAX_WEBSOCKET_MESSAGE_BYTES;

type RouteHandler = (event: WebSocketRouteEvent, context: ReturnType<typeof lambdaContext>) => Promise<{ statusCode?: number; body?: string } | undefined | void>;

export interface WebSocketRoutes {
  connect: RouteHandler;
  disconnect: RouteHandler;
  default: RouteHandler;
}

interface LiveConnection {
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
}

export class WebSocketGateway {
  private server?: Server;
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES });
  private readonly connections = new Map<string, LiveConnection>();
  /** Route invocations still running; close() waits for them so none outlives the stores it writes to. */
  private readonly pending = new Set<Promise<unknown>>();
  url = '';
  callbackUrl = '';

  constructor(private readonly routes: WebSocketRoutes) {}

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(port: number): Promise<void> {
    this.server = createServer((request, response) => {
      this.handleManagementApi(request, response).catch((error: unknown) => {
        console.error('[websocket-gateway]', error);
        if (!response.headersSent) reply(response, 500, { message: 'Internal Server Error' });
      });
    });
    this.server.on('upgrade', (request, socket, head) => {
      // Node hands an upgrading socket over with no error listener, and $connect runs before ws takes it: a client
      // that resets meanwhile would otherwise raise an unhandled 'error' and stop the whole runtime.
      socket.on('error', onClientSocketError);
      this.handleUpgrade(request, socket, head).catch((error: unknown) => {
        console.error('[websocket-gateway]', error);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    const address = this.server.address() as AddressInfo;
    this.url = `ws://127.0.0.1:${address.port}`;
    this.callbackUrl = `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    for (const connection of this.connections.values()) connection.socket.terminate();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    // Terminated sockets fire their close (and so $disconnect) on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.allSettled([...this.pending]);
  }

  private track(invocation: Promise<unknown>, functionName: string): void {
    const tracked = invocation.catch((error: unknown) => console.error(`[${functionName}]`, error)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // Refused before $connect, as API Gateway does: a handshake ws would refuse must not leave a connection record.
    const target = parseRequestTarget(request.url);
    if (!target || !isWebSocketHandshake(request)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const connectionId = randomBytes(12).toString('base64'); // API Gateway ids are base64 too: '=', '+', '/' included
    const connectedAt = Date.now();
    let result: Awaited<ReturnType<RouteHandler>>;
    try {
      result = await this.routes.connect(
        { ...routeEvent('$connect', 'CONNECT', connectionId, connectedAt), queryStringParameters: nameValueMapOf(target.searchParams), headers: headersFromRawPairs(request.rawHeaders) },
        lambdaContext('ws-connect', 29_000),
      );
    } catch (error) {
      console.error('[ws-connect]', error);
      result = { statusCode: 500 };
    }
    const status = result?.statusCode ?? 200;
    if (status < 200 || status > 299) {
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.sockets.handleUpgrade(request, socket, head, (webSocket) => {
      const connection: LiveConnection = {
        socket: webSocket,
        connectedAt,
        lastActiveAt: connectedAt,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: String(request.headers['user-agent'] ?? ''),
      };
      this.connections.set(connectionId, connection);
      // ws has already closed the socket with the matching code (1009 too big, 1007 invalid UTF-8, 1002 protocol
      // error) when it emits this; without a listener the event would stop the runtime instead.
      webSocket.on('error', (error) => console.warn(`[websocket-gateway] closed connection ${connectionId}: ${error.message}`));
      webSocket.on('message', (data) => {
        connection.lastActiveAt = Date.now();
        this.track(
          this.routes.default({ ...routeEvent('$default', 'MESSAGE', connectionId, connectedAt), body: data.toString() }, lambdaContext('ws-default', 29_000)),
          'ws-default',
        );
      });
      webSocket.on('close', () => {
        this.connections.delete(connectionId);
        this.track(this.routes.disconnect(routeEvent('$disconnect', 'DISCONNECT', connectionId, connectedAt), lambdaContext('ws-disconnect', 29_000)), 'ws-disconnect');
      });
    });
  }

  /**
   * Forgets the connection at once (later pushes get 410 Gone, so the worker deletes its subscriptions) and closes it
   * with 1008. The close frame queues behind the backlog: a client that reads again sees the code; one that never
   * does is cut off by ws when the close handshake times out.
   */
  private dropSlowConsumer(connectionId: string, connection: LiveConnection): void {
    console.warn(`[websocket-gateway] closing connection ${connectionId}: slow consumer (${connection.socket.bufferedAmount} bytes not yet sent)`);
    this.connections.delete(connectionId);
    connection.socket.close(1008, 'slow consumer: too many messages not yet read');
  }

  private async handleManagementApi(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const match = /^\/(?:[^/]+\/)?@connections\/([^/?]+)$/.exec(parseRequestTarget(request.url)?.path ?? '');
    if (!match) return void reply(response, 404, { message: 'Not Found' });
    let connectionId: string;
    try {
      connectionId = decodeURIComponent(match[1]!);
    } catch {
      return void reply(response, 400, { message: 'Invalid connection id' }, { 'x-amzn-errortype': 'BadRequestException' });
    }
    const connection = this.connections.get(connectionId);
    if (!connection) return void reply(response, 410, { message: 'Gone' }, { 'x-amzn-errortype': 'GoneException' });

    switch (request.method) {
      case 'POST': {
        const data = await readAtMost(request, MAX_WEBSOCKET_MESSAGE_BYTES);
        if (!data) return void reply(response, 413, { message: 'Payload too large' }, { 'x-amzn-errortype': 'PayloadTooLargeException', connection: 'close' });
        // Closing (the client said goodbye, or a close is under way): nothing sent now would arrive.
        if (connection.socket.readyState !== connection.socket.OPEN) return void reply(response, 410, { message: 'Gone' }, { 'x-amzn-errortype': 'GoneException' });
        if (connection.socket.bufferedAmount + data.length > SLOW_CONSUMER_BACKLOG_BYTES) {
          this.dropSlowConsumer(connectionId, connection);
          return void reply(response, 410, { message: 'Gone' }, { 'x-amzn-errortype': 'GoneException' });
        }
        // Queued, not awaited: waiting for the socket to drain would let a client that stops reading hold up the
        // worker that is pushing to it, and through the worker every other subscriber. The backlog check bounds it.
        connection.socket.send(data.toString('utf8'));
        return void reply(response, 200, undefined);
      }
      case 'GET':
        return void reply(response, 200, {
          ConnectedAt: new Date(connection.connectedAt).toISOString(),
          LastActiveAt: new Date(connection.lastActiveAt).toISOString(),
          Identity: { SourceIp: connection.sourceIp, UserAgent: connection.userAgent },
        });
      case 'DELETE':
        connection.socket.close(1000);
        return void reply(response, 204, undefined);
      default:
        return void reply(response, 405, { message: 'Method Not Allowed' });
    }
  }
}

/** A client that vanishes mid-handshake is routine; anything else is worth a line. The socket is done either way. */
function onClientSocketError(this: Duplex, error: NodeJS.ErrnoException): void {
  if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') console.warn(`[websocket-gateway] client socket error: ${error.message}`);
  this.destroy();
}

function routeEvent(routeKey: string, eventType: WebSocketRouteEvent['requestContext']['eventType'], connectionId: string, connectedAt: number): WebSocketRouteEvent {
  return {
    requestContext: { routeKey, eventType, connectionId, connectedAt, requestId: randomUUID(), domainName: '127.0.0.1', stage: 'local' },
    isBase64Encoded: false,
  };
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID(), ...headers });
  response.end(text);
}

/**
 * The request body, or undefined when it is over `limit`. A declared oversize body is not read at all (the answer
 * closes the connection); an undeclared one is read to its end but never kept past the limit: the endpoint is on
 * the WebSocket port, so nothing a client sends there is buffered beyond the largest message it could carry.
 */
async function readAtMost(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > limit) return undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request) {
    received += (chunk as Buffer).length;
    if (received <= limit) chunks.push(chunk as Buffer);
  }
  return received > limit ? undefined : Buffer.concat(chunks);
}

/** What ws checks before it upgrades (RFC 6455 §4.2.1): a GET with `Upgrade: websocket`, a 16-byte key, version 13 or 8. */
function isWebSocketHandshake(request: IncomingMessage): boolean {
  const key = request.headers['sec-websocket-key'];
  const version = request.headers['sec-websocket-version'];
  return (
    request.method === 'GET' &&
    String(request.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key) &&
    (version === '13' || version === '8')
  );
}
