/**
 * HttpWebhookSender and DnsTargetUrlGuard over real HTTP on loopback (127.0.0.1 only). Names never reach the real
 * DNS: an injected resolver answers them and counts its calls, which is how the tests see that the sender connects
 * to the address it checked instead of looking the name up a second time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { BadRequestError } from '../../lambdas/core/errors';
import { DnsTargetUrlGuard, HttpWebhookSender, type OutboundNetworkOptions, type ResolvedAddress } from '../../lambdas/adapters/http/webhook-sender';
import { NO_ALLOWED_TARGETS, parseAllowedTargets } from '../../lambdas/core/outbound/target-address-policy';

interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client's end of the connection: the same for two requests means the connection was reused. */
  remotePort: number | undefined;
}

const ONE_MIB = 1024 * 1024;
const ENDLESS_BODY_BYTES = 64 * ONE_MIB;

let received: ReceivedRequest[] = [];
/** Responses the receiver holds open (/never): answered in afterAll so the server can close. */
const heldOpen: http.ServerResponse[] = [];
/** Bytes the receiver managed to write of the endless body before the client went away. */
let endlessBytesWritten = 0;
let endlessClosed: Promise<void> = Promise.resolve();

const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), remotePort: req.socket.remotePort });
    switch (new URL(req.url ?? '/', 'http://receiver').pathname) {
      case '/ok':
        res.setHeader('X-Multi', ['first', 'second']);
        res.setHeader('Content-Type', 'text/plain');
        res.end('thanks');
        return;
      case '/redirect':
        res.writeHead(302, { Location: `http://127.0.0.1:${port}/ok` }).end();
        return;
      case '/never':
        heldOpen.push(res);
        return;
      case '/huge':
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('x'.repeat(ONE_MIB));
        return;
      case '/endless':
        endlessClosed = writeEndlessBody(res);
        return;
      default:
        res.writeHead(404).end();
    }
  });
});

/** Writes up to 64 MiB, honouring backpressure, until the client goes away. */
function writeEndlessBody(res: http.ServerResponse): Promise<void> {
  endlessBytesWritten = 0;
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  const chunk = Buffer.alloc(64 * 1024, 'y');
  return new Promise((resolve) => {
    res.on('close', () => resolve());
    res.on('error', () => resolve());
    const writeMore = () => {
      while (endlessBytesWritten < ENDLESS_BODY_BYTES && !res.destroyed) {
        endlessBytesWritten += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', writeMore);
      }
      res.end();
    };
    writeMore();
  });
}

let port: number;

/** A port nothing listens on: bound once, then closed. */
let closedPort: number;

/** A TLS listener that records the SNI name a client sends, then fails the handshake (no certificate needed). */
const sniNames: string[] = [];
const tlsListener = tls.createServer({
  SNICallback: (servername, callback) => {
    sniNames.push(servername);
    callback(new Error('test listener has no certificate'));
  },
});
let tlsPort: number;

const senders: HttpWebhookSender[] = [];

function listen(server: http.Server | tls.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  port = await listen(receiver);
  tlsPort = await listen(tlsListener);
  const probe = http.createServer();
  closedPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  for (const sender of senders) sender.close();
  for (const res of heldOpen) res.end();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await new Promise((resolve) => tlsListener.close(resolve));
});

beforeEach(() => {
  received = [];
});

/** A resolver answering from a table (other names: ENOTFOUND), counting calls per name. */
function fakeResolver(table: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, calls };
}

const names = fakeResolver({
  thename: ['127.0.0.1'],
  'internal.example': ['10.1.2.3'],
  'mixed.example': ['93.184.215.14', '10.0.0.1'],
  'metadata.example': ['169.254.169.254'],
});

function sender(options: Partial<OutboundNetworkOptions> = {}): HttpWebhookSender {
  const created = new HttpWebhookSender({ allowedTargets: NO_ALLOWED_TARGETS, httpsOnly: false, resolve: names.resolve, ...options });
  senders.push(created);
  return created;
}

function guard(options: Partial<OutboundNetworkOptions> = {}): DnsTargetUrlGuard {
  return new DnsTargetUrlGuard({ allowedTargets: NO_ALLOWED_TARGETS, httpsOnly: false, resolve: names.resolve, ...options });
}

const loopbackAllowed = parseAllowedTargets('127.0.0.0/8');
const post = (url: string, timeoutMs = 5_000) => ({ url, headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' }, body: '{"hello":"world"}', timeoutMs });

describe('delivering', () => {
  it('POSTs the body and headers to an allow-listed loopback receiver and returns its answer', async () => {
    const result = await sender({ allowedTargets: loopbackAllowed }).send(post(`http://127.0.0.1:${port}/ok?attempt=1`));

    expect(result).toMatchObject({ kind: 'response', status: 200, body: 'thanks' });
    if (result.kind !== 'response') throw new Error('expected a response');
    expect(result.headers['x-multi']).toBe('first, second');
    expect(result.headers['content-type']).toBe('text/plain');
    expect(Object.keys(result.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(received).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/ok?attempt=1',
        body: '{"hello":"world"}',
        headers: expect.objectContaining({ 'content-type': 'application/json', 'webhook-id': 'msg_1', 'content-length': '17', host: `127.0.0.1:${port}` }),
      }),
    ]);
  });

  it('connects to the checked address of a name, keeping the name as Host, without a second lookup, on one kept-alive connection', async () => {
    const nameSender = sender({ allowedTargets: loopbackAllowed });
    const callsBefore = names.calls.filter((name) => name === 'thename').length;

    const first = await nameSender.send(post(`http://thename:${port}/ok`));
    const second = await nameSender.send(post(`http://thename:${port}/ok`));

    expect(first).toMatchObject({ kind: 'response', status: 200 });
    expect(second).toMatchObject({ kind: 'response', status: 200 });
    expect(received.map((request) => request.headers.host)).toEqual([`thename:${port}`, `thename:${port}`]);
    // One lookup for both sends: the connect used the checked answer, and the second send the cached one.
    expect(names.calls.filter((name) => name === 'thename').length - callsBefore).toBe(1);
    expect(received[1]?.remotePort).toBe(received[0]?.remotePort);
  });

  it('sends the name as TLS SNI while connecting to the checked address', async () => {
    const result = await sender({ allowedTargets: loopbackAllowed, httpsOnly: true }).send(post(`https://thename:${tlsPort}/hook`));

    expect(result).toMatchObject({ kind: 'error', refused: false, timedOut: false });
    expect(sniNames).toEqual(['thename']);
  });

  it('returns a redirect as the answer and does not follow it', async () => {
    const result = await sender({ allowedTargets: loopbackAllowed }).send(post(`http://127.0.0.1:${port}/redirect`));

    expect(result).toMatchObject({ kind: 'response', status: 302, headers: expect.objectContaining({ location: `http://127.0.0.1:${port}/ok` }) });
    expect(received.map((request) => request.url)).toEqual(['/redirect']);
  });

  it('keeps only the first 4096 bytes of a 1 MiB response body', async () => {
    const result = await sender({ allowedTargets: loopbackAllowed }).send(post(`http://127.0.0.1:${port}/huge`));

    expect(result).toMatchObject({ kind: 'response', status: 200 });
    if (result.kind !== 'response') throw new Error('expected a response');
    expect(result.body).toBe('x'.repeat(4096));
  });

  it('stops reading a body once it has its share, instead of downloading it', async () => {
    const result = await sender({ allowedTargets: loopbackAllowed, maxResponseBodyBytes: 100 }).send(post(`http://127.0.0.1:${port}/endless`));

    expect(result).toMatchObject({ kind: 'response', status: 200, body: 'y'.repeat(100) });
    await endlessClosed;
    // Socket buffers hold a few MiB at most: the receiver was cut off long before the end of the 64 MiB.
    expect(endlessBytesWritten).toBeLessThan(ENDLESS_BODY_BYTES);
  });
});

describe('failures come back as results', () => {
  it('times out on a receiver that never answers', async () => {
    const result = await sender({ allowedTargets: loopbackAllowed }).send(post(`http://127.0.0.1:${port}/never`, 300));

    expect(result).toMatchObject({ kind: 'error', timedOut: true, refused: false, error: 'timed out after 300 ms' });
    expect(received.map((request) => request.url)).toEqual(['/never']);
  });

  it('times out on a lookup that never answers (the deadline covers DNS too)', async () => {
    const hanging = new HttpWebhookSender({ allowedTargets: NO_ALLOWED_TARGETS, httpsOnly: false, resolve: () => new Promise(() => undefined) });
    senders.push(hanging);

    expect(await hanging.send(post('http://slow.example/hook', 300))).toMatchObject({ kind: 'error', timedOut: true, refused: false });
  });

  it('reports a refused connection', async () => {
    const result = await sender({ allowedTargets: loopbackAllowed }).send(post(`http://127.0.0.1:${closedPort}/hook`));

    expect(result).toMatchObject({ kind: 'error', timedOut: false, refused: false, error: expect.stringContaining('ECONNREFUSED') });
  });

  it('reports a name that does not resolve, as a network failure', async () => {
    const result = await sender().send(post('http://nowhere.example/hook'));

    expect(result).toMatchObject({ kind: 'error', timedOut: false, refused: false, error: expect.stringContaining('could not resolve nowhere.example: ENOTFOUND') });
  });

  it('never throws, even on headers node refuses to send', async () => {
    const result = await sender({ allowedTargets: loopbackAllowed }).send({ ...post(`http://127.0.0.1:${port}/ok`), headers: { 'x-bad': 'line\nbreak' } });

    expect(result).toMatchObject({ kind: 'error', refused: false });
    expect(received).toEqual([]);
  });
});

describe('refusals (guard and sender alike, before any connection)', () => {
  it.each([
    [`http://127.0.0.1:${'PORT'}/ok`, '127.0.0.1 is a loopback address'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
    [`http://[::1]:${'PORT'}/ok`, '::1 is a loopback address'],
    [`http://[::ffff:127.0.0.1]:${'PORT'}/ok`, 'IPv4-mapped address of 127.0.0.1, a loopback address'],
    ['http://internal.example/hook', 'internal.example resolves to 10.1.2.3, a private address'],
    ['http://metadata.example/hook', 'metadata.example resolves to 169.254.169.254, a link-local address'],
    // One global answer does not make up for a private one: the connection could use either.
    ['http://mixed.example/hook', 'mixed.example resolves to 10.0.0.1, a private address'],
  ])('%s', async (template, reason) => {
    const url = template.replace('PORT', String(port));

    const result = await sender().send(post(url));
    expect(result).toMatchObject({ kind: 'error', refused: true, timedOut: false });
    if (result.kind !== 'error') throw new Error('expected an error');
    expect(result.error).toContain(reason);
    expect(result.error).toContain('HOOKHUB_ALLOW_PRIVATE_TARGETS');

    const refusal = await guard()
      .check(url)
      .then(() => undefined, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(BadRequestError);
    expect((refusal as BadRequestError).message).toMatch(/^url: /);
    expect((refusal as BadRequestError).message).toContain(reason);
    expect((refusal as BadRequestError).message).toContain('HOOKHUB_ALLOW_PRIVATE_TARGETS');
    expect(received).toEqual([]);
  });

  it('refuses http:// when https only, and accepts an https URL to a global address', async () => {
    const httpsOnly = { httpsOnly: true, allowedTargets: loopbackAllowed };

    expect(await sender(httpsOnly).send(post(`http://127.0.0.1:${port}/ok`))).toMatchObject({
      kind: 'error',
      refused: true,
      error: expect.stringContaining('must use https'),
    });
    await expect(guard(httpsOnly).check(`http://127.0.0.1:${port}/ok`)).rejects.toThrow('must use https');
    await expect(guard(httpsOnly).check('https://8.8.8.8/hook')).resolves.toBeUndefined();
    expect(received).toEqual([]);
  });

  it('the guard refuses a name that does not resolve, and credentials in the URL', async () => {
    await expect(guard().check('https://nowhere.example/hook')).rejects.toThrow('url: could not resolve nowhere.example: ENOTFOUND');
    await expect(guard().check('https://user:pw@8.8.8.8/hook')).rejects.toThrow('credentials');
  });

  it('the guard resolves afresh on every check (no cache)', async () => {
    const counting = fakeResolver({ 'public.example': ['8.8.8.8'] });
    const freshGuard = guard({ resolve: counting.resolve });

    await freshGuard.check('https://public.example/a');
    await freshGuard.check('https://public.example/b');
    expect(counting.calls).toEqual(['public.example', 'public.example']);
  });
});
