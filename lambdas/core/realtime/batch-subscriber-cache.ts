/**
 * Remembers subscriber lookups for the length of one worker batch: ten events on one channel then cost one lookup
 * per pattern instead of ten. A subscription made while a batch is in flight applies from the next batch
 * (milliseconds later); a connection found gone during the batch is not offered again.
 */
import type { SubscriberDirectory } from './fan-out';

export class BatchSubscriberCache implements SubscriberDirectory {
  private readonly lookups = new Map<string, Promise<string[]>>();
  private readonly removed = new Set<string>();

  constructor(private readonly store: SubscriberDirectory) {}

  async findSubscribers(patterns: readonly string[]): Promise<string[]> {
    const key = [...patterns].sort().join('\n');
    let lookup = this.lookups.get(key);
    if (!lookup) {
      lookup = this.store.findSubscribers(patterns);
      this.lookups.set(key, lookup);
      // A failed lookup must not be remembered: the next event asks again.
      lookup.catch(() => this.lookups.delete(key));
    }
    return (await lookup).filter((connectionId) => !this.removed.has(connectionId));
  }

  async remove(connectionId: string): Promise<void> {
    this.removed.add(connectionId);
    await this.store.remove(connectionId);
  }
}
