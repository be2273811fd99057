/**
 * A timer that stands in for an EventBridge schedule in the local runtime (and runs the local TTL sweep): every
 * interval it starts the task unless the previous run is still going (a run never overlaps itself, as two syncs of
 * one channel would only contend for its lease), and stop() waits for the run in flight so it never runs into
 * stores that are closing. The first run comes after one interval, as with an EventBridge rate.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.runNow(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Starts a run unless one is going; resolves when that run ends. */
  runNow(): Promise<void> {
    this.running ??= this.task()
      .then(() => undefined, this.onError)
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
