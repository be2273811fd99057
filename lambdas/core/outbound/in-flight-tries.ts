/**
 * Limits the tries one process has in flight to one endpoint, so a slow endpoint cannot hold every worker: a try to
 * an endpoint that does not answer holds its batch for the whole timeout (15 s), and a batch's other tasks wait with
 * it. The limit adapts as TCP's congestion window does (additive increase, multiplicative decrease): an endpoint
 * starts at `initialLimit` tries at once, each quick success raises its limit by one (up to `maxLimit`), each failure
 * or slow try halves it (at least one); and while one of its tries has run longer than `slowAfterMs`, it gets no new
 * one. A healthy endpoint reaches the concurrency its latency needs within a few dozen deliveries; one that hangs
 * holds at most `initialLimit` batches. A task refused here goes back on the queue with a short delay; it is not a
 * failed try.
 *
 * Per process, not global: on AWS each worker instance has its own, which bounds the instances a slow endpoint holds
 * only together with the circuit breaker. See docs/decisions.md, "A slow endpoint must not slow the others".
 */
export interface InFlightLimits {
  initialLimit: number;
  maxLimit: number;
  slowAfterMs: number;
}

interface EndpointWindow {
  running: Set<{ at: number }>;
  limit: number;
  /** Tries waiting for a slot (acquire), woken one per release. */
  waiting: (() => void)[];
}

/** Why a try may not start now: the endpoint's slots are taken by quick tries, or one of its tries is slow. */
export type Refusal = 'full' | 'slow';

/** Bounds the memory of endpoints seen: a window back at its initial state with nothing running is forgotten. */
export class InFlightTries {
  private readonly windows = new Map<string, EndpointWindow>();

  constructor(
    private readonly limits: InFlightLimits,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /**
   * A release function if a try may start now, else undefined. Call the release with whether the try succeeded
   * quickly (a 2xx within `slowAfterMs`).
   */
  tryStart(endpointId: string): ((quickSuccess: boolean) => void) | undefined {
    const started = this.start(endpointId);
    return typeof started === 'function' ? started : undefined;
  }

  /**
   * Like tryStart, but waits up to `maxWaitMs` for a slot when the endpoint's slots are taken by quick tries (they
   * free within milliseconds: sending the task back through the queue would cost a second or more). An endpoint
   * with a slow try is refused at once: its slots free only when that try ends.
   */
  async acquire(endpointId: string, maxWaitMs: number): Promise<((quickSuccess: boolean) => void) | Refusal> {
    const deadline = this.nowMs() + maxWaitMs;
    for (;;) {
      const started = this.start(endpointId);
      if (typeof started === 'function' || started === 'slow') return started;
      const remaining = deadline - this.nowMs();
      if (remaining <= 0) return 'full';
      const window = this.windows.get(endpointId)!;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, remaining);
        function wake() {
          clearTimeout(timer);
          const index = window.waiting.indexOf(wake);
          if (index >= 0) window.waiting.splice(index, 1);
          resolve();
        }
        window.waiting.push(wake);
      });
    }
  }

  private start(endpointId: string): ((quickSuccess: boolean) => void) | Refusal {
    const window = this.windows.get(endpointId) ?? { running: new Set<{ at: number }>(), limit: this.limits.initialLimit, waiting: [] };
    const now = this.nowMs();
    for (const entry of window.running) if (now - entry.at > this.limits.slowAfterMs) return 'slow';
    if (window.running.size >= window.limit) {
      this.windows.set(endpointId, window);
      return 'full';
    }
    const entry = { at: now };
    window.running.add(entry);
    this.windows.set(endpointId, window);
    let released = false;
    return (quickSuccess) => {
      if (released) return;
      released = true;
      window.running.delete(entry);
      window.limit = quickSuccess ? Math.min(this.limits.maxLimit, window.limit + 1) : Math.max(1, Math.floor(window.limit / 2));
      window.waiting.shift()?.();
      if (window.running.size === 0 && window.waiting.length === 0 && window.limit === this.limits.initialLimit) this.windows.delete(endpointId);
    };
  }

  /** Tries running now to this endpoint, and how many it may have. */
  state(endpointId: string): { running: number; limit: number } {
    const window = this.windows.get(endpointId);
    return { running: window?.running.size ?? 0, limit: window?.limit ?? this.limits.initialLimit };
  }
}
