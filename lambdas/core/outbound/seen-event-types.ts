/**
 * Records the event types seen in published messages for the catalog (GET /api/event-types), at most once per
 * type per RECORD_INTERVAL_MS in one process: the catalog needs "seen, and roughly when last", not a write per
 * message. A failed write is reported, never fails the publish: the catalog is a convenience, the message is not.
 */
import type { EventTypeCatalog } from './outbound-ports';

const RECORD_INTERVAL_MS = 10 * 60_000;
/** Bounds the memory a stream of distinct types could take. */
const MAX_REMEMBERED_TYPES = 10_000;

export class SeenEventTypes {
  private readonly recordedAt = new Map<string, number>();

  constructor(
    private readonly catalog: EventTypeCatalog,
    private readonly onError: (error: unknown) => void,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async record(eventType: string, source: string): Promise<void> {
    const now = this.nowMs();
    const last = this.recordedAt.get(eventType);
    if (last !== undefined && now - last < RECORD_INTERVAL_MS) return;
    if (this.recordedAt.size >= MAX_REMEMBERED_TYPES) this.recordedAt.clear();
    this.recordedAt.set(eventType, now);
    try {
      await this.catalog.recordSeen([{ name: eventType, source }], new Date(now).toISOString());
    } catch (error) {
      this.recordedAt.delete(eventType);
      this.onError(error);
    }
  }
}
