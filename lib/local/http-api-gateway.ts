/**
 * Plays API Gateway's HTTP API on loopback: matches routes like `POST /hooks/{source}` (and a `$default` route for
 * the rest), builds the payload-format 2.0 event a Lambda proxy integration receives and maps the handler's result
 * back to an HTTP response.
 *
 * The handler sees the exact request bytes: a body is passed as a string only when its content type is text and
 * its bytes are valid UTF-8, else base64 with `isBase64Encoded` (a lossy decode would turn a correctly signed body
 * into a signature failure). Every answer the gateway gives itself (no route, body too large, handler failure,
 * malformed request) is `{"error", "message"}` like the handlers' own; see docs/decisions.md for where that differs
 * from API Gateway.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import { headersFromRawPairs } from '../../lambdas/core/verification/header-map';
import { nameValueMapOf } from '../../lambdas/core/name-value-map';
import { BadRequestError, type HookhubError, MethodNotAllowedError, PayloadTooLargeError } from '../../lambdas/core/errors';
import { parseRequestTarget, type RequestTarget } from './request-target';
import { matchPath, unmatchedRouteError } from '../../lambdas/handlers/http/http-routes';

/** API Gateway's own request size limit for HTTP APIs. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export type HttpLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface HttpRoute {
  method: string | 'ANY';
  /** A path pattern, or `$default`: the route for every request no other route matches. */
  path: string | '$default';
  functionName: string;
  handler: HttpLambda;
}

export interface HttpApiGatewayOptions {
  /** @default 10 MiB, API Gateway's limit */
  maxRequestBytes?: number;
}

/** The client went away before its body arrived: there is no one left to answer. */
class RequestAbortedError extends Error {}

/** The handler's result is not a response API Gateway could send (API Gateway answers 500 for it too). */
class InvalidIntegrationResponseError extends Error {}

export class HttpApiGateway {
  private server?: Server;
  url = '';
  private readonly maxRequestBytes: number;

  constructor(
    private readonly routes: readonly HttpRoute[],
    options: HttpApiGatewayOptions = {},
  ) {
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  }

  async listen(port: number): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        console.error('[http-api-gateway]', error);
        if (!response.headersSent) writeError(response, 500, 'internal_error', 'Internal Server Error');
        else response.destroy();
      });
    });
    // Without a listener Node answers a malformed request with a bare 400; answer with the JSON error shape instead.
    this.server.on('clientError', answerClientError);
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = parseRequestTarget(request.url);
    if (!url) return void writeHookhubError(response, new BadRequestError('the request target must be a path starting with a single / and without . or .. segments'));
    const method = request.method ?? 'GET';
    const match = this.match(method, url.path);
    if (!match) return void writeHookhubError(response, unmatchedRouteError(method, url.path, this.routes.filter((route) => route.path !== '$default')));

    let body: Buffer;
    try {
      body = await readBody(request, this.maxRequestBytes);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        // Stop reading what is left of an oversized body: answer and close the connection.
        return void writeHookhubError(response, error, { connection: 'close' });
      }
      if (error instanceof RequestAbortedError) return void request.destroy();
      throw error;
    }
    const event = toEvent(request, url, body, match.route, match.pathParameters);
    let result: APIGatewayProxyResultV2;
    try {
      result = await match.route.handler(event, lambdaContext(match.route.functionName, 29_000));
    } catch (error) {
      // What API Gateway answers when the integration throws, with the error code every hookhub answer carries.
      console.error(`[${match.route.functionName}]`, error);
      return void writeError(response, 500, 'internal_error', 'Internal Server Error');
    }
    let reply: HttpReply;
    try {
      reply = toHttpReply(result);
    } catch (error) {
      console.error(`[${match.route.functionName}] invalid response:`, (error as Error).message);
      return void writeError(response, 500, 'internal_error', 'Internal Server Error');
    }
    response.writeHead(reply.statusCode, { ...reply.headers, 'content-length': reply.body.length });
    response.end(reply.body);
  }

  private match(method: string, path: string): { route: HttpRoute; pathParameters: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.path === '$default' || (route.method !== 'ANY' && route.method !== method)) continue;
      const pathParameters = matchPath(route.path, path);
      if (pathParameters) return { route, pathParameters };
    }
    const fallback = this.routes.find((route) => route.path === '$default');
    return fallback && { route: fallback, pathParameters: {} };
  }
}

function toEvent(request: IncomingMessage, url: RequestTarget, body: Buffer, route: HttpRoute, pathParameters: Record<string, string>): APIGatewayProxyEventV2 {
  const headers = headersFromRawPairs(request.rawHeaders);
  const query = nameValueMapOf(url.searchParams);
  const asText = isTextContent(headers['content-type']) && isUtf8(body);
  const routeKey = route.path === '$default' ? '$default' : `${route.method} ${route.path}`;
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.path,
    rawQueryString: url.rawQueryString,
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.path,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length > 0 ? body.toString(asText ? 'utf8' : 'base64') : undefined,
    isBase64Encoded: body.length > 0 && !asText,
  };
}

function isTextContent(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return /^(text\/|application\/(json|[\w.+-]+\+json|x-www-form-urlencoded|xml))/i.test(contentType);
}

/** Buffer.toString('utf8') replaces bad sequences with U+FFFD silently; the fatal decoder tells us instead. */
function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  // Refuse a declared oversize body before reading any of it, as API Gateway does.
  if (declared > maxBytes) throw new PayloadTooLargeError(declared, maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw new PayloadTooLargeError(size, maxBytes);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    throw new RequestAbortedError('the client closed the connection before sending the whole body', { cause: error });
  }
  // A stream that ends early without an error (a half-closed socket) is an abort too: the body is not all there.
  if (!request.complete) throw new RequestAbortedError('the request body ended early');
  return Buffer.concat(chunks);
}

interface HttpReply {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Payload format 2.0's response rules: a result without `statusCode` is itself the JSON body of a 200; otherwise
 * statusCode, string headers and a string body (base64 when `isBase64Encoded`). Anything else API Gateway cannot
 * send, and neither do we.
 */
function toHttpReply(result: APIGatewayProxyResultV2): HttpReply {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    const text = JSON.stringify(result ?? null);
    if (text === undefined) throw new InvalidIntegrationResponseError('the result is not JSON');
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text) };
  }
  const { statusCode, headers = {}, body, isBase64Encoded } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new InvalidIntegrationResponseError(`statusCode ${String(statusCode)} is not an HTTP status`);
  }
  if (body !== undefined && typeof body !== 'string') throw new InvalidIntegrationResponseError('body is not a string');
  const stringHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) throw new InvalidIntegrationResponseError(`header ${name} is not a scalar`);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(String(value))) {
      throw new InvalidIntegrationResponseError(`header ${JSON.stringify(name)} is not a valid HTTP header`);
    }
    stringHeaders[name] = String(value);
  }
  return { statusCode, headers: stringHeaders, body: body === undefined ? Buffer.alloc(0) : Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8') };
}

function writeHookhubError(response: ServerResponse, error: HookhubError, headers: Record<string, string> = {}): void {
  const allow: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allowed.join(', ') } : {};
  writeError(response, error.statusCode, error.code, error.message, { ...headers, ...allow });
}

function writeError(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify({ error: code, message });
  response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** Node's HTTP parser refused the request (malformed request line or headers, headers too large, timeout). */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [status, reason, code] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout']
        : [400, 'Bad Request', 'bad_request'];
  const text = JSON.stringify({ error: code, message: `the request could not be parsed as HTTP/1.1 (${reason.toLowerCase()})` });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}
