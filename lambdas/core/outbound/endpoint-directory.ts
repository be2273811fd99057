/**
 * Every endpoint, read through a short cache. Publishing matches each message against all endpoints and every try
 * needs its endpoint's settings, secrets and state: without the cache that is a Scan per message and a read per
 * delivery. The price is that a change made elsewhere (another Lambda, the management API) is seen up to `ttlMs`
 * later; changes this process makes are seen at once (`remember`, `forget`). See docs/decisions.md.
 */
import type { Endpoint } from './outbound-model';
import type { EndpointStore } from './outbound-ports';

/** Endpoints are few; a directory larger than this would mean a misuse, and is read in pages of this size. */
const PAGE_SIZE = 1000;

export class EndpointDirectory {
  private cached?: { at: number; byId: Map<string, Endpoint> };
  private loading?: Promise<Map<string, Endpoint>>;

  constructor(
    private readonly store: EndpointStore,
    private readonly ttlMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async all(): Promise<Endpoint[]> {
    return [...(await this.current()).values()];
  }

  /**
   * An id the cached list does not hold is read from the store: an endpoint created since the last load (by another
   * process) must not look deleted, or its first deliveries would be dropped.
   */
  async get(id: string): Promise<Endpoint | undefined> {
    const cached = (await this.current()).get(id);
    if (cached) return cached;
    const stored = await this.store.get(id);
    if (stored) this.remember(stored);
    return stored;
  }

  /** Read from the store now (and remembered): for a decision a stale copy must not make, such as skipping. */
  async fresh(id: string): Promise<Endpoint | undefined> {
    const stored = await this.store.get(id);
    if (stored) this.remember(stored);
    else this.forget(id);
    return stored;
  }

  /** A change this process made (or just read): visible to its next publish and try without waiting for the TTL. */
  remember(endpoint: Endpoint): void {
    this.cached?.byId.set(endpoint.id, endpoint);
  }

  forget(id: string): void {
    this.cached?.byId.delete(id);
  }

  private async current(): Promise<Map<string, Endpoint>> {
    if (this.cached && this.nowMs() - this.cached.at < this.ttlMs) return this.cached.byId;
    // Concurrent callers share one load instead of each scanning the table.
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<Map<string, Endpoint>> {
    const at = this.nowMs();
    const byId = new Map<string, Endpoint>();
    let cursor: string | undefined;
    do {
      const page = await this.store.list({ limit: PAGE_SIZE, cursor });
      for (const endpoint of page.items) byId.set(endpoint.id, endpoint);
      cursor = page.cursor;
    } while (cursor);
    this.cached = { at, byId };
    return byId;
  }
}
