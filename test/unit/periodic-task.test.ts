import { PeriodicTask } from '../../lib/local/periodic-task';

describe('PeriodicTask (the local stand-in for an EventBridge schedule)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs first after one interval, then every interval', async () => {
    let runs = 0;
    const task = new PeriodicTask(60_000, async () => void runs++, () => undefined).start();
    await jest.advanceTimersByTimeAsync(59_999);
    expect(runs).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(runs).toBe(3);
    await task.stop();
  });

  it('never starts a run while the previous one is still going', async () => {
    let started = 0;
    let finish: () => void = () => undefined;
    const task = new PeriodicTask(1_000, () => {
      started++;
      return new Promise<void>((resolve) => (finish = resolve));
    }, () => undefined).start();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(started).toBe(1);
    finish();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(2);
    finish();
    await task.stop();
  });

  it('reports a failed run and keeps the schedule', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const task = new PeriodicTask(1_000, async () => {
      runs++;
      throw new Error(`run ${runs} failed`);
    }, (error) => errors.push(error)).start();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(errors.map((error) => (error as Error).message)).toEqual(['run 1 failed', 'run 2 failed']);
    await task.stop();
  });

  it('stop() waits for the run in flight and starts no more', async () => {
    let finished = false;
    let runs = 0;
    const task = new PeriodicTask(1_000, async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 500));
      finished = true;
    }, () => undefined).start();
    await jest.advanceTimersByTimeAsync(1_000);
    const stopped = task.stop();
    await jest.advanceTimersByTimeAsync(500);
    await stopped;
    expect(finished).toBe(true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(1);
  });
});
