/**
 * AblyHistoryReader over the real `ably` SDK's REST client: channel history (forwards from a start, the SDK decoding
 * each payload) and channel enumeration by prefix, with the retries enumeration needs (40011: restart the listing;
 * 42912: one enumeration per app at a time, so wait and retry). Every error leaves here as an AblyApiError carrying
 * Ably's code and message, with the API key scrubbed from the text.
 */
import * as Ably from 'ably';
import type { AblyHistoryReader, HistoryMessage, HistoryPage } from '../../providers/ably/ably-ports';

export interface AblyHistoryReaderOptions {
  apiKey: string;
  /** Points the SDK at another REST host (a loopback stand-in): host, port, and TLS from the scheme. */
  restUrl?: URL;
  /** Waits between 42912 retries; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** Ably's error codes the enumeration reacts to. */
export const ENUMERATION_CURSOR_INVALID = 40011;
export const ENUMERATION_BUSY = 42912;
/** Waits before the 1st, 2nd and 3rd retry of a busy enumeration; after the 3rd, it gives up. */
export const ENUMERATION_BUSY_DELAYS_MS = [1_000, 2_000, 4_000] as const;
const MAX_ENUMERATION_RESTARTS = 3;
const ENUMERATION_PAGE_LIMIT = 100;
/** 100,000 names at full pages: beyond it a listing that keeps answering `next` is taken to be looping. */
const MAX_ENUMERATION_PAGES = 1_000;
/** `rest.request`'s protocol version for the channels endpoint. */
const ENUMERATION_PROTOCOL_VERSION = 3;

/** An error answered by Ably (or the SDK on its behalf): `code` is Ably's error code when there is one. */
export class AblyApiError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'AblyApiError';
  }
}

export class AblyRestHistoryReader implements AblyHistoryReader {
  private readonly rest: Ably.Rest;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly secrets: string[];

  constructor(options: AblyHistoryReaderOptions) {
    // The whole key and its secret half: either could appear in an SDK message (e.g. echoing an auth header).
    this.secrets = [options.apiKey, options.apiKey.split(':')[1] ?? ''].filter((secret) => secret.length >= 6);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.rest = new Ably.Rest({
      key: options.apiKey,
      ...(options.restUrl ? endpointOptions(options.restUrl) : {}),
      // Every SDK error reaches the caller as a thrown AblyApiError (the run records it): the SDK's own error log
      // line would only say it a second time, unscrubbed.
      logLevel: 0,
    });
  }

  async history(channel: string, startMs: number, limit: number): Promise<HistoryPage> {
    const page = await this.call(`reading the history of channel ${channel}`, () =>
      this.rest.channels.get(channel).history({ start: startMs, direction: 'forwards', limit }),
    );
    return this.historyPage(channel, page);
  }

  async listChannels(prefix: string): Promise<string[]> {
    let restarts = 0;
    let busyRetries = 0;
    listing: for (;;) {
      const names = new Set<string>();
      let previous: Ably.PaginatedResult<unknown> | undefined;
      for (let pages = 1; ; pages++) {
        if (pages > MAX_ENUMERATION_PAGES) throw new AblyApiError(`listing channels with prefix '${prefix}' failed: more than ${MAX_ENUMERATION_PAGES} pages`);
        // A failed page is asked for again from the page before it, so a 42912 retry does not start over.
        const request = previous;
        const page = await this.call(`listing channels with prefix '${prefix}'`, () =>
          request ? request.next() : this.rest.request('get', '/channels', ENUMERATION_PROTOCOL_VERSION, { prefix, by: 'id', limit: ENUMERATION_PAGE_LIMIT }),
        );
        if (page === null) break;
        const failure = responseFailure(page);
        if (failure?.code === ENUMERATION_CURSOR_INVALID) {
          if (++restarts > MAX_ENUMERATION_RESTARTS) {
            throw this.error(`listing channels with prefix '${prefix}' failed: the enumeration cursor was invalidated again after ${MAX_ENUMERATION_RESTARTS} restarts (Ably error ${ENUMERATION_CURSOR_INVALID}: ${failure.message})`, failure);
          }
          continue listing;
        }
        if (failure?.code === ENUMERATION_BUSY) {
          if (busyRetries >= ENUMERATION_BUSY_DELAYS_MS.length) {
            throw this.error(`listing channels with prefix '${prefix}' failed: another channel enumeration was still running after ${busyRetries} retries (Ably error ${ENUMERATION_BUSY}: ${failure.message})`, failure);
          }
          await this.sleep(ENUMERATION_BUSY_DELAYS_MS[busyRetries++]!);
          continue;
        }
        if (failure) throw this.error(`listing channels with prefix '${prefix}' failed: Ably error ${failure.code ?? 'unknown'} (HTTP ${failure.statusCode}): ${failure.message}`, failure);
        for (const item of page.items) {
          const name = channelName(item);
          if (name !== undefined) names.add(name);
        }
        if (!page.hasNext()) return [...names];
        previous = page;
      }
      return [...names];
    }
  }

  private historyPage(channel: string, page: Ably.PaginatedResult<Ably.InboundMessage>): HistoryPage {
    return {
      items: page.items.map(historyMessage),
      next: async () => {
        if (!page.hasNext()) return undefined;
        const next = await this.call(`reading the history of channel ${channel}`, () => page.next());
        return next ? this.historyPage(channel, next) : undefined;
      },
    };
  }

  /** Runs one SDK call, turning whatever it throws into an AblyApiError with Ably's code. */
  private async call<T>(what: string, sdkCall: () => Promise<T>): Promise<T> {
    try {
      return await sdkCall();
    } catch (error) {
      const info = error as Partial<Ably.ErrorInfo> | undefined;
      const code = typeof info?.code === 'number' ? info.code : undefined;
      const statusCode = typeof info?.statusCode === 'number' ? info.statusCode : undefined;
      const message = typeof info?.message === 'string' ? info.message : String(error);
      const label = code !== undefined ? `Ably error ${code}${statusCode !== undefined ? ` (HTTP ${statusCode})` : ''}` : 'Ably request failed';
      throw this.error(`${what} failed: ${label}: ${message}`, { code, statusCode }, error);
    }
  }

  private error(message: string, details: { code?: number; statusCode?: number }, cause?: unknown): AblyApiError {
    const error = new AblyApiError(this.scrub(message), details.code, details.statusCode);
    // The SDK's error is kept for debugging only when it cannot leak the key through its own text.
    if (cause instanceof Error && this.scrub(cause.message) === cause.message) error.cause = cause;
    return error;
  }

  private scrub(text: string): string {
    return this.secrets.reduce((scrubbed, secret) => scrubbed.split(secret).join('[redacted]'), text);
  }
}

/** SDK options for a non-default REST host; `endpoint` with a host name or IP means "this host, no fallbacks". */
function endpointOptions(restUrl: URL): Ably.ClientOptions {
  const tls = restUrl.protocol === 'https:';
  const port = restUrl.port === '' ? undefined : Number(restUrl.port);
  return {
    endpoint: restUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
    tls,
    ...(port === undefined ? {} : tls ? { tlsPort: port } : { port }),
    // A stand-in answers JSON; on Node the SDK would otherwise ask for msgpack.
    useBinaryProtocol: false,
    fallbackHosts: [],
  };
}

/** `rest.request` answers an HTTP error as a response (success false) rather than throwing. */
function responseFailure(page: Ably.PaginatedResult<unknown>): { code?: number; statusCode?: number; message: string } | undefined {
  const response = page as Partial<Ably.HttpPaginatedResponse>;
  if (response.success !== false) return undefined;
  return {
    code: typeof response.errorCode === 'number' ? response.errorCode : undefined,
    statusCode: response.statusCode,
    message: response.errorMessage ?? `HTTP ${response.statusCode}`,
  };
}

/** `by=id` answers names; a listing without it answers channel details with a `channelId`. */
function channelName(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (typeof item === 'object' && item !== null && typeof (item as { channelId?: unknown }).channelId === 'string') return (item as { channelId: string }).channelId;
  return undefined;
}

function historyMessage(message: Ably.InboundMessage): HistoryMessage {
  const result: HistoryMessage = { id: message.id, timestamp: message.timestamp, data: message.data };
  if (message.name !== undefined && message.name !== null) result.name = message.name;
  if (message.encoding !== undefined && message.encoding !== null && message.encoding !== '') result.encoding = message.encoding;
  if (message.clientId !== undefined && message.clientId !== null) result.clientId = message.clientId;
  if (message.connectionId !== undefined && message.connectionId !== null) result.connectionId = message.connectionId;
  if (message.extras !== undefined && message.extras !== null) result.extras = message.extras;
  return result;
}
