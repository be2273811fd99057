/**
 * Caps the tries one process has in flight to one endpoint, so a slow endpoint cannot hold every worker: a try to
 * an endpoint that times out holds its batch for the whole timeout (15 s), and a batch's other tasks wait with it.
 * An endpoint gets at most `maxPerEndpoint` tries at once, one while it is failing, and none new while one of its
 * tries has been running longer than `slowAfterMs` (it is probably not answering). A task refused here goes back on
 * the queue with a short delay; it is not a failed try.
 *
 * Per process, not global: on AWS each worker instance has its own, which bounds the instances a slow endpoint holds
 * only together with the circuit breaker. See docs/decisions.md, "A slow endpoint must not slow the others".
 */
export class InFlightTries {
  private readonly startedAt = new Map<string, Set<{ at: number }>>();

  constructor(
    private readonly options: { maxPerEndpoint: number; slowAfterMs: number },
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** A release function if a try may start now, else undefined. */
  tryStart(endpointId: string, failing: boolean): (() => void) | undefined {
    const running = this.startedAt.get(endpointId) ?? new Set<{ at: number }>();
    const now = this.nowMs();
    const cap = failing ? 1 : this.options.maxPerEndpoint;
    if (running.size >= cap) return undefined;
    for (const entry of running) if (now - entry.at > this.options.slowAfterMs) return undefined;
    const entry = { at: now };
    running.add(entry);
    this.startedAt.set(endpointId, running);
    return () => {
      running.delete(entry);
      if (running.size === 0 && this.startedAt.get(endpointId) === running) this.startedAt.delete(endpointId);
    };
  }

  /** Tries running now to this endpoint. */
  count(endpointId: string): number {
    return this.startedAt.get(endpointId)?.size ?? 0;
  }
}
