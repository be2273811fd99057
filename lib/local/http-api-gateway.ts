/**
 * Plays API Gateway's HTTP API on loopback: matches routes like `POST /hooks/{source}`, builds the payload-format 2.0
 * event a Lambda proxy integration receives (base64-encoding bodies that are not text, as API Gateway does) and
 * maps the handler's result back to an HTTP response.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import { headersFromRawPairs } from '../../lambdas/core/verification/header-map';
import { nameValueMapOf } from '../../lambdas/core/name-value-map';

/** API Gateway's own request size limit for HTTP APIs. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export type HttpLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface HttpRoute {
  method: string | 'ANY';
  path: string;
  functionName: string;
  handler: HttpLambda;
}

export class HttpApiGateway {
  private server?: Server;
  url = '';

  constructor(private readonly routes: readonly HttpRoute[]) {}

  async listen(port: number): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        console.error('[http-api-gateway]', error);
        if (!response.headersSent) writeJson(response, 500, { message: 'Internal Server Error' });
      });
    });
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
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    const match = this.match(method, url.pathname);
    if (!match) return void writeJson(response, 404, { message: 'Not Found' });

    let body: Buffer;
    try {
      body = await readBody(request);
    } catch {
      return void writeJson(response, 413, { message: 'Request Entity Too Large' });
    }
    const event = toEvent(request, url, body, match.route, match.pathParameters);
    try {
      const result = await match.route.handler(event, lambdaContext(match.route.functionName, 29_000));
      writeResult(response, result);
    } catch (error) {
      // What API Gateway answers when the integration throws.
      console.error(`[${match.route.functionName}]`, error);
      writeJson(response, 500, { message: 'Internal Server Error' });
    }
  }

  private match(method: string, path: string): { route: HttpRoute; pathParameters: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const pathParameters = matchPath(route.path, path);
      if (pathParameters) return { route, pathParameters };
    }
    return undefined;
  }
}

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const patternParts = pattern.split('/');
  const pathParts = path.split('/');
  if (patternParts.length !== pathParts.length) return undefined;
  const parameters: Record<string, string> = {};
  for (let index = 0; index < patternParts.length; index++) {
    const expected = patternParts[index]!;
    const actual = pathParts[index]!;
    if (expected.startsWith('{') && expected.endsWith('}')) {
      if (actual === '') return undefined;
      try {
        parameters[expected.slice(1, -1)] = decodeURIComponent(actual);
      } catch {
        return undefined; // malformed percent-encoding: no route matches, as API Gateway answers 404
      }
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return parameters;
}

function toEvent(request: IncomingMessage, url: URL, body: Buffer, route: HttpRoute, pathParameters: Record<string, string>): APIGatewayProxyEventV2 {
  const headers = headersFromRawPairs(request.rawHeaders);
  const query = nameValueMapOf(url.searchParams);
  const text = isTextContent(headers['content-type']);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${route.method === 'ANY' ? 'ANY' : route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
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
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method === 'ANY' ? 'ANY' : route.method} ${route.path}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length > 0 ? body.toString(text ? 'utf8' : 'base64') : undefined,
    isBase64Encoded: body.length > 0 && !text,
  };
}

function isTextContent(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return /^(text\/|application\/(json|[\w.+-]+\+json|x-www-form-urlencoded|xml))/i.test(contentType);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new Error('request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function writeResult(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string' || result === undefined || result === null || !('statusCode' in result)) {
    return void writeJson(response, 200, result);
  }
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  response.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string>), 'content-length': body.length });
  response.end(body);
}

function writeJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
