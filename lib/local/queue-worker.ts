/**
 * Runs a queue worker (an SQS event source and its handler module: `sqs-process-inbound` for the inbound queue,
 * `sqs-deliver` for the delivery queue) on its own thread, so the messages it drains do not take turns with the
 * HTTP thread. It talks to the local stand-ins over their wire protocols with the real SDK clients.
 *
 * If the thread ends unexpectedly (an uncaught error in a handler or a processor), the runtime says so and starts
 * a new one, no faster than a growing delay, as it does for the dynalite thread: the messages the dead thread held
 * become visible again after their visibility timeout, and the claim fencing lets the new thread take them over.
 * `stop()` lets the thread finish the batches it holds, deletes included, then ends it.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ThreadRelauncher } from './thread-relauncher';

export interface QueueWorkerData {
  module: string;
  /** The handler module, relative to lambdas/handlers (e.g. `sqs-deliver`). */
  handler: string;
  /** Records per invocation, as the event source mapping's batch size. */
  batchSize: number;
  queueUrl: string;
  queueArn: string;
  /** Parallel pollers, like the concurrent invocations Lambda scales an event source mapping to. */
  concurrency: number;
  /** A module whose `eventProcessors` export is added to the registry in the thread (demos, tests). */
  processorsModule?: string;
}

export type QueueWorkerMessage = { type: 'ready' } | { type: 'stopped' } | { type: 'error'; message: string };

export interface QueueWorkerOptions extends Omit<QueueWorkerData, 'module'> {
  /** The thread's environment: the handler module reads its configuration from it at import. */
  environment: Record<string, string | undefined>;
  /** @default 10_000 */
  stopTimeoutMs?: number;
}


export class QueueWorker {
  private thread?: Worker;
  private stopping = false;
  private readonly relauncher = new ThreadRelauncher({
    launch: () => this.launch(),
    isStopping: () => this.stopping,
    onRunning: () => console.warn(`[worker] the ${this.options.handler} worker is running again; messages the old thread held are retried after their visibility timeout`),
    onLaunchFailed: (error) =>
      console.error(`[worker] could not restart the ${this.options.handler} worker (${error instanceof Error ? error.message : String(error)}); trying again`),
  });
  /** Threads started, the first included: tells a test (or an operator reading logs) that a restart happened. */
  starts = 0;

  constructor(private readonly options: QueueWorkerOptions) {}

  /** Resolves once the thread has imported the handler and its pollers run. */
  start(): Promise<void> {
    this.stopping = false;
    return this.launch();
  }

  private launch(): Promise<void> {
    const { environment, stopTimeoutMs: _, ...data } = this.options;
    const workerData: QueueWorkerData = { ...data, module: join(__dirname, 'queue-worker-thread.ts') };
    const thread = new Worker(join(__dirname, 'typescript-thread.js'), { workerData, env: { ...environment } });
    this.thread = thread;
    this.starts++;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      thread.on('message', (message: QueueWorkerMessage) => {
        if (message.type === 'ready') {
          ready = true;
          resolve();
        } else if (message.type === 'error') {
          if (ready) console.error(`[worker] ${message.message}`);
          else reject(new Error(`${this.options.handler} worker: ${message.message}`));
        }
      });
      thread.on('error', (error) => {
        if (!ready) reject(error);
        else console.error(`[worker] the ${this.options.handler} worker thread failed:`, error);
      });
      thread.once('exit', (code) => {
        if (!ready) reject(new Error(`${this.options.handler} worker thread exited with ${code} before it was ready`));
        else if (!this.stopping && this.thread === thread) this.restart(code);
      });
    });
  }

  private restart(code: number): void {
    console.error(`[worker] the ${this.options.handler} worker thread ended unexpectedly (exit code ${code}); starting a new one`);
    this.thread = undefined;
    this.relauncher.relaunch();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      // A batch that does not finish in time is cut off: it is received again at the next start.
      const timer = setTimeout(done, this.options.stopTimeoutMs ?? 10_000);
      thread.on('message', (message: QueueWorkerMessage) => {
        if (message.type === 'stopped') done();
      });
      thread.once('exit', done);
      thread.postMessage('stop');
    });
    await thread.terminate();
  }
}
