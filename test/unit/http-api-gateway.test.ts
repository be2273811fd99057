/**
 * The local HTTP API gateway over real HTTP and raw sockets on loopback, with stand-in Lambdas: what it hands a
 * handler (exact bytes) and what it answers itself (every error as `{error, message}`), and that no client can take
 * it down.
 */
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { HttpApiGateway, type HttpLambda } from '../../lib/local/http-api-gateway';

const MAX_BYTES = 64 * 1024;
const received: APIGatewayProxyEventV2[] = [];
let nextResult: () => Promise<APIGatewayProxyResultV2> = async () => ({ statusCode: 200, body: '{}' });
const recording: HttpLambda = async (event) => {
  received.push(event);
  return nextResult();
};
const gateway = new HttpApiGateway(
  [
    { method: 'POST', path: '/hooks/{source}', functionName: 'test-ingest', handler: recording },
    { method: 'GET', path: '/api/events', functionName: 'test-read', handler: recording },
  ],
  { maxRequestBytes: MAX_BYTES },
);
let url: string;
let port: number;

beforeAll(async () => {
  url = await gateway.listen(0);
  port = Number(new URL(url).port);
});
afterAll(() => gateway.close());
beforeEach(() => {
  received.length = 0;
  nextResult = async () => ({ statusCode: 200, body: '{}' });
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

async function send(path: string, init: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${url}${path}`, { method: 'POST', ...init, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  return { status: response.status, allow: response.headers.get('allow'), body: JSON.parse(text) as unknown };
}

/** Writes raw bytes on a fresh connection and returns everything the server sent before closing it. */
function rawExchange(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

const stillUp = async () => expect((await send('/hooks/demo', { body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(200);
const errorShape = (error: string) => ({ error, message: expect.any(String) });

describe('request bodies reach the handler byte for byte', () => {
  it.each([
    ['valid UTF-8 text', 'application/json', Buffer.from('{"name":"Zoë ✓"}'), false],
    ['invalid UTF-8 sent as JSON', 'application/json; charset=utf-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), true],
    ['invalid UTF-8 sent as text', 'text/plain', Buffer.from([0x61, 0xc3, 0x28, 0xed, 0xa0, 0x80]), true],
    ['a UTF-8 byte order mark', 'text/plain', Buffer.from([0xef, 0xbb, 0xbf, 0x61]), false],
    ['binary content', 'application/octet-stream', Buffer.from('plain ascii'), true],
  ])('%s', async (_name, contentType, bytes, base64) => {
    await send('/hooks/demo', { body: bytes, headers: { 'content-type': contentType } });
    const [event] = received;
    expect(event!.isBase64Encoded).toBe(base64);
    expect(Buffer.from(event!.body!, event!.isBase64Encoded ? 'base64' : 'utf8').equals(bytes)).toBe(true);
  });
});

describe('answers it gives itself, all as {error, message}', () => {
  it('404 for a path no route has, 405 with Allow for a path under another method', async () => {
    expect(await send('/', { method: 'GET' })).toEqual({ status: 404, allow: null, body: errorShape('not_found') });
    expect(await send('/api/events')).toEqual({ status: 405, allow: 'GET', body: errorShape('method_not_allowed') });
    expect(await send('/hooks/demo', { method: 'DELETE' })).toEqual({ status: 405, allow: 'POST', body: errorShape('method_not_allowed') });
    expect(received).toEqual([]);
  });

  it('500 when the handler throws, without its message', async () => {
    nextResult = async () => {
      throw new Error('secret internals');
    };
    const response = await send('/hooks/demo', { body: '{}' });
    expect(response).toEqual({ status: 500, allow: null, body: { error: 'internal_error', message: 'Internal Server Error' } });
  });

  it.each<[string, unknown]>([
    ['a status that is not a number', { statusCode: 'ok', body: '{}' }],
    ['a status out of range', { statusCode: 42, body: '{}' }],
    ['a body that is not a string', { statusCode: 200, body: { a: 1 } }],
    ['a header with a line break', { statusCode: 200, headers: { 'x-evil': 'a\r\nset-cookie: b' }, body: '{}' }],
    ['a header name that is not a token', { statusCode: 200, headers: { 'bad header': 'x' }, body: '{}' }],
    ['a header that is an object', { statusCode: 200, headers: { 'x-object': { a: 1 } }, body: '{}' }],
    ['a result that is not JSON', { count: BigInt(1) }],
  ])('500 when the handler returns %s', async (_name, result) => {
    nextResult = async () => result as APIGatewayProxyResultV2;
    expect(await send('/hooks/demo', { body: '{}' })).toEqual({ status: 500, allow: null, body: { error: 'internal_error', message: 'Internal Server Error' } });
  });

  it('a result without statusCode is the JSON body of a 200, as API Gateway treats it', async () => {
    nextResult = async () => ({ hello: 'world' }) as unknown as APIGatewayProxyResultV2;
    expect(await send('/hooks/demo', { body: '{}' })).toEqual({ status: 200, allow: null, body: { hello: 'world' } });
  });

  it('413 for a declared body over the limit, before reading it, and the handler is not called', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/hooks/demo', headers: { 'content-length': MAX_BYTES + 1 } }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
      request.on('error', reject);
      request.setTimeout(5_000, () => request.destroy(new Error('no answer within 5 s')));
      request.write('{"partial":'); // the rest never comes: the answer must not wait for it
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual(errorShape('payload_too_large'));
    expect(received).toEqual([]);
  });

  it('413 for a chunked body that grows over the limit', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/hooks/demo', headers: { 'transfer-encoding': 'chunked' } }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
      // The server may close while we still write: that is its answer, not a test failure.
      request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      request.setTimeout(5_000, () => request.destroy(new Error('no answer within 5 s')));
      request.write(Buffer.alloc(MAX_BYTES + 1, 0x61));
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual(errorShape('payload_too_large'));
    expect(received).toEqual([]);
  });
});

describe('clients that misbehave cannot take it down', () => {
  it('answers a malformed request line with a JSON 400 and keeps serving', async () => {
    const answer = await rawExchange('NOT A REQUEST LINE\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual(errorShape('bad_request'));
    await stillUp();
  });

  it('answers a request target that is not a plain path with a JSON 400, without resolving dot segments', async () => {
    for (const target of ['//[', '//hooks/demo', '/hooks/../hooks/demo', '/hooks/./demo']) {
      const answer = await rawExchange(`POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      expect({ target, status: answer.slice(0, 12) }).toEqual({ target, status: 'HTTP/1.1 400' });
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual(errorShape('bad_request'));
    }
    await stillUp();
  });

  it('answers headers over Node’s limit with a JSON 431 and keeps serving', async () => {
    const answer = await rawExchange(`GET /api/events HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual(errorShape('headers_too_large'));
    await stillUp();
  });

  it.each([
    ['a routed request', '/hooks/demo'],
    ['an unrouted request', '/nowhere'],
  ])('drops %s whose client aborts mid-body without calling the handler, and keeps serving', async (_name, path) => {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"half":`);
        // Give the server the headers and part of the body, then vanish.
        setImmediate(() => socket.destroy());
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await stillUp();
    expect(received.filter((event) => event.body?.includes('half'))).toEqual([]);
  });
});
