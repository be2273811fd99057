/**
 * Outbound HTTP with the SSRF guard built in: the WebhookSender that delivers and the TargetUrlGuard that checks an
 * endpoint URL when it is created or changed. Both resolve the host first and refuse the URL if ANY address it
 * resolves to is not global (lambdas/core/outbound/target-address-policy.ts decides which are).
 *
 * The sender then connects to the address it checked, never to a second DNS answer: node's `request` gets a
 * `lookup` that hands back the checked addresses, so a name that answers a public address to the check and
 * 169.254.169.254 to the connect (DNS rebinding) cannot get through. The hostname stays the request's host, so the
 * Host header, TLS SNI and the certificate check all use it.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BadRequestError } from '../../core/errors';
import type { OutgoingRequest, SendResult, TargetUrlGuard, WebhookSender } from '../../core/outbound/outbound-ports';
import { checkTargetUrl, refusedAddressClass, type AllowedTargets } from '../../core/outbound/target-address-policy';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a hostname resolves to. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface OutboundNetworkOptions {
  /** Non-global ranges that may be reached anyway (HOOKHUB_ALLOW_PRIVATE_TARGETS). */
  allowedTargets: AllowedTargets;
  /** Refuse http:// URLs. */
  httpsOnly: boolean;
  /** @default every address the system resolver answers, in its order (`dns.promises.lookup` with all, verbatim) */
  resolve?: HostResolver;
  /** How much of a response body is kept (for the attempt log); the rest is not read. @default 4096 */
  maxResponseBodyBytes?: number;
}

const DEFAULT_MAX_RESPONSE_BODY_BYTES = 4096;

/**
 * How long the sender reuses a hostname's DNS answer. A busy endpoint gets many deliveries a second, and a lookup
 * for each would add latency and load on the resolver; 30 s is short enough that a DNS change (failover) takes
 * effect about as fast as common TTLs. The addresses are checked against the policy on every use, so the cache can
 * only make the sender slower to follow DNS, never let it reach a refused address.
 */
const DNS_ANSWER_TTL_MS = 30_000;
/** Endpoints number in the hundreds; the bound only keeps a flood of distinct hostnames from growing memory. */
const MAX_CACHED_HOSTNAMES = 1_000;
/** Connections kept open to one host:port, so one busy endpoint neither opens a socket per delivery nor unbounded many. */
const MAX_SOCKETS_PER_HOST = 50;

async function systemResolve(hostname: string): Promise<ResolvedAddress[]> {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

/** The name could not be resolved: a network failure for the sender, a refusal for the guard. */
class HostResolutionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HostResolutionError';
  }
}

/** The overall deadline of one send passed. */
class DeadlineError extends Error {
  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'DeadlineError';
  }
}

/** A URL that passed every check, and the addresses a connection to it may use. */
interface CheckedTarget {
  url: URL;
  /** The URL's host without IPv6 brackets: what node's `request` takes as `hostname`. */
  hostname: string;
  addresses: ResolvedAddress[];
}

/** URL shape, resolution and the address policy, shared by the sender and the guard. */
class TargetChecker {
  private readonly answers = new Map<string, { answer: Promise<ResolvedAddress[]>; expiresAt: number }>();

  constructor(
    private readonly allowedTargets: AllowedTargets,
    private readonly httpsOnly: boolean,
    private readonly resolve: HostResolver,
    private readonly answerTtlMs: number,
  ) {}

  /** Throws BadRequestError if the URL is refused, HostResolutionError if its host does not resolve. */
  async check(rawUrl: string): Promise<CheckedTarget> {
    const url = checkTargetUrl(rawUrl, { httpsOnly: this.httpsOnly });
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const literalFamily = isIP(hostname);
    if (literalFamily !== 0) {
      const refusedAs = refusedAddressClass(hostname, this.allowedTargets);
      if (refusedAs !== undefined) throw new BadRequestError(`url: ${hostname} is ${refusedAs}; ${allowListHint(hostname)}`);
      return { url, hostname, addresses: [{ address: hostname, family: literalFamily === 6 ? 6 : 4 }] };
    }
    const addresses = await this.resolveCached(hostname);
    for (const { address } of addresses) {
      const refusedAs = refusedAddressClass(address, this.allowedTargets);
      if (refusedAs !== undefined) {
        throw new BadRequestError(`url: ${hostname} resolves to ${address}, ${refusedAs}; ${allowListHint(address)}`);
      }
    }
    return { url, hostname, addresses };
  }

  private async resolveCached(hostname: string): Promise<ResolvedAddress[]> {
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.cachedAnswer(hostname);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      throw new HostResolutionError(`could not resolve ${hostname}: ${code ?? (error instanceof Error ? error.message : String(error))}`, { cause: error });
    }
    if (addresses.length === 0) throw new HostResolutionError(`could not resolve ${hostname}: no address`);
    // The family the connection uses is derived from the address itself, not taken on the resolver's word.
    return addresses.map(({ address }) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  }

  /** The hostname's answer, from the cache while fresh; concurrent sends to one host share one lookup. */
  private cachedAnswer(hostname: string): Promise<ResolvedAddress[]> {
    const now = performance.now();
    const cached = this.answers.get(hostname);
    if (cached && cached.expiresAt > now) return cached.answer;
    const answer = Promise.resolve().then(() => this.resolve(hostname));
    if (this.answerTtlMs > 0) {
      const entry = { answer, expiresAt: now + this.answerTtlMs };
      this.answers.delete(hostname);
      this.answers.set(hostname, entry);
      if (this.answers.size > MAX_CACHED_HOSTNAMES) this.answers.delete(this.answers.keys().next().value as string);
      // A failed lookup is not remembered: the next delivery asks again.
      answer.catch(() => {
        if (this.answers.get(hostname) === entry) this.answers.delete(hostname);
      });
    }
    return answer;
  }
}

function allowListHint(address: string): string {
  const hostRange = `${address}/${isIP(address) === 6 ? 128 : 32}`;
  return `hookhub delivers only to global addresses; to allow this one (development), add a range that covers it to HOOKHUB_ALLOW_PRIVATE_TARGETS (e.g. ${hostRange})`;
}

/**
 * Checks endpoint URLs when an operator creates or changes one. It resolves afresh every time (no cache): it runs
 * rarely, and the operator should see what the name answers now. A name that does not resolve is refused too.
 */
export class DnsTargetUrlGuard implements TargetUrlGuard {
  private readonly targets: TargetChecker;

  constructor(options: OutboundNetworkOptions) {
    this.targets = new TargetChecker(options.allowedTargets, options.httpsOnly, options.resolve ?? systemResolve, 0);
  }

  async check(url: string): Promise<void> {
    try {
      await this.targets.check(url);
    } catch (error) {
      if (error instanceof HostResolutionError) throw new BadRequestError(`url: ${error.message}`, { cause: error });
      throw error;
    }
  }
}

/**
 * POSTs webhooks. Never throws: a refusal, a DNS or network failure and the deadline all come back as an error
 * result. Redirects are not followed (a 3xx is the receiver's answer, and following one would reach an unchecked
 * address). Keep-alive agents reuse connections to a busy endpoint; every pooled socket was opened through the
 * checking `lookup`, so reusing one reaches an address that was checked (at most a socket's lifetime ago).
 */
export class HttpWebhookSender implements WebhookSender {
  private readonly targets: TargetChecker;
  private readonly maxResponseBodyBytes: number;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST });

  constructor(options: OutboundNetworkOptions) {
    this.targets = new TargetChecker(options.allowedTargets, options.httpsOnly, options.resolve ?? systemResolve, DNS_ANSWER_TTL_MS);
    this.maxResponseBodyBytes = options.maxResponseBodyBytes ?? DEFAULT_MAX_RESPONSE_BODY_BYTES;
  }

  async send(request: OutgoingRequest): Promise<SendResult> {
    const startedAt = performance.now();
    // One deadline for DNS, connect and response: whichever stage is running when it passes is abandoned.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DeadlineError(request.timeoutMs)), request.timeoutMs);
    try {
      const target = await untilAborted(this.targets.check(request.url), deadline.signal);
      const response = await this.exchange(target, request, deadline.signal);
      return { kind: 'response', ...response, durationMs: performance.now() - startedAt };
    } catch (error) {
      const durationMs = performance.now() - startedAt;
      if (deadline.signal.aborted) return { kind: 'error', error: `timed out after ${request.timeoutMs} ms`, timedOut: true, refused: false, durationMs };
      if (error instanceof BadRequestError) return { kind: 'error', error: error.message, timedOut: false, refused: true, durationMs };
      return { kind: 'error', error: describeFailure(error), timedOut: false, refused: false, durationMs };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the pooled connections (at shutdown, and so tests leave no open handles). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private exchange(target: CheckedTarget, request: OutgoingRequest, deadline: AbortSignal): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    return new Promise((resolve, reject) => {
      if (deadline.aborted) return reject(deadline.reason);
      const isHttps = target.url.protocol === 'https:';
      const req = (isHttps ? https : http).request({
        method: 'POST',
        hostname: target.hostname,
        port: target.url.port === '' ? (isHttps ? 443 : 80) : Number(target.url.port),
        path: `${target.url.pathname}${target.url.search}`,
        headers: withContentLength(request.headers, request.body),
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        lookup: lookupReturning(target.addresses),
      });
      const abandon = () => req.destroy(deadline.reason as Error);
      deadline.addEventListener('abort', abandon, { once: true });
      // Stays attached after settling: destroying a finished request may still emit an error, which must not throw.
      req.on('error', (error) => {
        deadline.removeEventListener('abort', abandon);
        reject(error);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        let settled = false;
        // Once the status line and headers arrived the receiver has answered: a body cut short (by the deadline, a
        // reset, or our own limit) still yields that answer, with the part of the body that was read.
        const settle = () => {
          if (settled) return;
          settled = true;
          deadline.removeEventListener('abort', abandon);
          resolve({ status: res.statusCode ?? 0, headers: joinedHeaders(res.headersDistinct), body: Buffer.concat(chunks).toString('utf8') });
        };
        res.on('data', (chunk: Buffer) => {
          const room = this.maxResponseBodyBytes - kept;
          if (room > 0) {
            const part = chunk.subarray(0, room);
            chunks.push(part);
            kept += part.length;
          }
          if (kept >= this.maxResponseBodyBytes) {
            // The rest is not downloaded: a receiver answering a huge body costs one chunk, not the whole body.
            settle();
            res.destroy();
          }
        });
        res.on('end', settle);
        res.on('close', settle);
        res.on('error', settle);
        if (this.maxResponseBodyBytes <= 0) {
          settle();
          res.destroy();
        }
      });
      req.end(request.body);
    });
  }
}

/**
 * The `lookup` node's `request` uses to connect: it answers the checked addresses whatever it is asked, so the
 * connection goes where the check looked. With `all` (happy eyeballs, node's default since 20) it answers all of
 * them, otherwise the first one of the family asked for, if any.
 */
function lookupReturning(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : undefined;
    const candidates = family === undefined ? addresses : addresses.filter((address) => address.family === family);
    process.nextTick(() => {
      const first = candidates[0];
      if (first === undefined) {
        const error: NodeJS.ErrnoException = new Error(`no checked IPv${family ?? ''} address`);
        error.code = 'ENOTFOUND';
        callback(error, '', undefined);
      } else if (options.all) {
        callback(null, candidates.map(({ address, family: addressFamily }) => ({ address, family: addressFamily })));
      } else {
        callback(null, first.address, first.family);
      }
    });
  };
}

/** The caller's headers with our Content-Length (the body is sent whole, never chunked). */
function withContentLength(headers: Record<string, string>, body: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'content-length' && lower !== 'transfer-encoding') result[name] = value;
  }
  result['content-length'] = String(Buffer.byteLength(body));
  return result;
}

/** Header names lowercased (node already does), repeated headers joined with ', ' as RFC 9110 allows. */
function joinedHeaders(headers: NodeJS.Dict<string[]>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, values] of Object.entries(headers)) {
    if (values !== undefined) result[name.toLowerCase()] = values.join(', ');
  }
  return result;
}

/** Node's messages (`connect ECONNREFUSED 127.0.0.1:9`, `socket hang up`) say what happened; they hold no secrets. */
function describeFailure(error: unknown): string {
  if (error instanceof Error) return error.message;
  return `request failed: ${String(error)}`;
}

/** The promise's outcome, or the signal's reason if it aborts first (the promise is left to settle unobserved). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
