/**
 * Endpoint hourly stats, added up in the worker process and written at most once per `intervalMs` per endpoint and
 * hour. Per batch that would be one update per endpoint, which with a hundred endpoints is ten updates for ten
 * deliveries; stats are counters, so they add up in memory just as well. A flush that is not due at the end of a
 * batch is scheduled on a timer. The price: on AWS, counts of the last `intervalMs` of an instance that Lambda
 * reclaims before the timer fires are lost (docs/decisions.md). A failed write is reported, never fails a batch:
 * the deliveries are done, and retrying them for a counter would send them twice.
 */
import type { DeliveryLog, EndpointHourStats } from './outbound-ports';
import { mergeBuckets } from './duration-histogram';

interface PendingStats {
  endpointId: string;
  stats: EndpointHourStats;
  expiresAt: number;
}

export class StatsBuffer {
  private pending = new Map<string, PendingStats>();
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly log: Pick<DeliveryLog, 'addHourStats'>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
    private readonly nowMs: () => number = Date.now,
  ) {}

  add(endpointId: string, stats: EndpointHourStats, expiresAt: number): void {
    const key = `${endpointId} ${stats.hour}`;
    const existing = this.pending.get(key);
    if (!existing) {
      this.pending.set(key, { endpointId, stats: { ...stats, durationBuckets: { ...stats.durationBuckets } }, expiresAt });
      return;
    }
    existing.stats.succeeded += stats.succeeded;
    existing.stats.failed += stats.failed;
    existing.stats.durationBuckets = mergeBuckets(existing.stats.durationBuckets, stats.durationBuckets);
    existing.expiresAt = Math.max(existing.expiresAt, expiresAt);
  }

  /** Writes what is pending if the last flush is `intervalMs` old, else makes sure a timer will. */
  async flushIfDue(): Promise<void> {
    if (this.pending.size === 0) return;
    const wait = this.lastFlushAt + this.intervalMs - this.nowMs();
    if (wait <= 0) return this.flush();
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
    this.timer.unref?.();
  }

  async flush(): Promise<void> {
    this.lastFlushAt = this.nowMs();
    const entries = [...this.pending.values()];
    this.pending = new Map();
    await Promise.all(
      entries.map(({ endpointId, stats, expiresAt }) => this.log.addHourStats(endpointId, stats, expiresAt).catch((error: unknown) => this.onError(error))),
    );
  }
}
