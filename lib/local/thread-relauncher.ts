/**
 * Starts a replacement for a thread that ended unexpectedly (dynalite, the inbound worker), again and again with a
 * growing delay (0.1 s doubling to 5 s) until one runs or its owner stops: a thread that dies at once, say on a
 * broken data directory, must not spin the CPU.
 */
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5_000;

export interface RelaunchHooks {
  /** Starts the replacement; rejects if it did not come up. */
  launch: () => Promise<unknown>;
  isStopping: () => boolean;
  onRunning: () => void;
  onLaunchFailed: (error: unknown) => void;
}

export class ThreadRelauncher {
  private restarts = 0;

  constructor(private readonly hooks: RelaunchHooks) {}

  relaunch(): void {
    const delayMs = Math.min(FIRST_RESTART_DELAY_MS * 2 ** this.restarts, MAX_RESTART_DELAY_MS);
    this.restarts++;
    setTimeout(() => {
      if (this.hooks.isStopping()) return;
      this.hooks.launch().then(
        () => {
          this.restarts = 0;
          this.hooks.onRunning();
        },
        (error: unknown) => {
          this.hooks.onLaunchFailed(error);
          if (!this.hooks.isStopping()) this.relaunch();
        },
      );
    }, delayMs).unref();
  }
}
