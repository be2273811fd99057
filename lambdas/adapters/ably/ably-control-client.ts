/**
 * AblyControlApi over Ably's Control API (https://control.ably.net/v1) with the global fetch. Every call is bounded
 * by a timeout, since a deploy waits on it, and every error says what Ably answered but never carries the token.
 */
import type { AblyControlApi, AblyRule, AblyRuleBody } from '../../providers/ably/rule-registration';

export const ABLY_CONTROL_DEFAULT_URL = 'https://control.ably.net';
export const ABLY_CONTROL_TIMEOUT_MS = 10_000;

/** A Control API call that failed: `status` is Ably's HTTP status, absent when no answer came (network, timeout). */
export class AblyControlError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly ablyCode?: number,
  ) {
    super(message);
    this.name = 'AblyControlError';
  }
}

export interface AblyControlClientOptions {
  /** An account access token (`write:rule`, `read:rule`). */
  token: string;
  /** Scheme, host and port replacing https://control.ably.net (HOOKHUB_ABLY_CONTROL_URL); any path is ignored. */
  baseUrl?: URL | string;
  timeoutMs?: number;
}

export class AblyControlClient implements AblyControlApi {
  private readonly base: string;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(options: AblyControlClientOptions) {
    this.base = `${new URL(options.baseUrl ?? ABLY_CONTROL_DEFAULT_URL).origin}/v1`;
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? ABLY_CONTROL_TIMEOUT_MS;
  }

  async listRules(appId: string): Promise<AblyRule[]> {
    const rules = await this.call('GET', `/apps/${encodeURIComponent(appId)}/rules`);
    if (!Array.isArray(rules)) throw new AblyControlError('Ably Control API: the rule list is not an array');
    // Anything without an id cannot be matched or deleted; skipping it beats failing on one odd entry.
    return rules.filter((rule): rule is AblyRule => isRecord(rule) && typeof rule.id === 'string');
  }

  async createRule(appId: string, body: AblyRuleBody): Promise<AblyRule> {
    const rule = await this.call('POST', `/apps/${encodeURIComponent(appId)}/rules`, body);
    if (!isRecord(rule) || typeof rule.id !== 'string') throw new AblyControlError('Ably Control API: the created rule has no id');
    return rule as unknown as AblyRule;
  }

  async deleteRule(appId: string, ruleId: string): Promise<void> {
    // A rule already gone is what deleting wanted: a retried stack delete must not fail on it.
    await this.call('DELETE', `/apps/${encodeURIComponent(appId)}/rules/${encodeURIComponent(ruleId)}`, undefined, [404]);
  }

  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, acceptedStatuses: number[] = []): Promise<unknown> {
    const what = `Ably Control API ${method} ${path}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const failure = error as Error & { cause?: NodeJS.ErrnoException };
      if (failure.name === 'TimeoutError' || failure.name === 'AbortError') {
        throw new AblyControlError(`${what}: no answer within ${this.timeoutMs} ms`);
      }
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is in its cause.
      throw new AblyControlError(`${what}: cannot reach ${this.base} (${failure.cause?.code ?? failure.cause?.message ?? failure.message})`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no complete answer within ${this.timeoutMs} ms` : (error as Error).message;
      throw new AblyControlError(`${what}: ${reason}`, response.status);
    }
    if (!response.ok && !acceptedStatuses.includes(response.status)) throw this.failure(what, response.status, text);
    if (!response.ok || text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AblyControlError(`${what}: answered ${response.status} with a body that is not JSON`, response.status);
    }
  }

  /** Ably's error body is `{message, code, statusCode, href}`; anything else is quoted briefly. */
  private failure(what: string, status: number, text: string): AblyControlError {
    let message: string | undefined;
    let ablyCode: number | undefined;
    try {
      const parsed = JSON.parse(text) as unknown;
      const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : parsed;
      if (isRecord(error)) {
        if (typeof error.message === 'string') message = error.message;
        if (typeof error.code === 'number') ablyCode = error.code;
      }
    } catch {
      // Not JSON (a proxy's HTML page, say): quoted below.
    }
    message ??= text.replace(/\s+/g, ' ').trim().slice(0, 200) || '(no body)';
    // Ably never echoes the token, but an unknown proxy in between might: the error ends up in logs.
    if (this.token.length > 0) message = message.split(this.token).join('***');
    const hint = status === 401 ? ' (is the control token valid and not expired?)' : status === 403 ? ' (does the token have the read:rule and write:rule capabilities for this app?)' : '';
    return new AblyControlError(`${what} answered ${status}: ${message}${ablyCode === undefined ? '' : ` (Ably error ${ablyCode})`}${hint}`, status, ablyCode);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
