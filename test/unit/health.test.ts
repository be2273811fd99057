import { checkHealth, deadLetterQueueHealth } from '../../lambdas/core/health';

const empty = { visible: 0, inFlight: 0, delayed: 0 };

describe('health', () => {
  it('is ok while the dead-letter queue is empty', async () => {
    const report = await checkHealth([{ name: 'deadLetterQueue', check: async () => deadLetterQueueHealth(empty) }]);
    expect(report).toEqual({ status: 'ok', checks: { deadLetterQueue: { ok: true, ...empty } } });
  });

  it.each([
    [{ ...empty, visible: 2 }, 2],
    [{ ...empty, inFlight: 1 }, 1],
    [{ visible: 1, inFlight: 1, delayed: 1 }, 3],
  ])('is degraded, with a reason, while the dead-letter queue holds messages (%o)', async (depth, waiting) => {
    const report = await checkHealth([
      { name: 'eventStore', check: async () => ({}) },
      { name: 'deadLetterQueue', check: async () => deadLetterQueueHealth(depth) },
    ]);
    expect(report.status).toBe('degraded');
    expect(report.checks.eventStore).toEqual({ ok: true });
    expect(report.checks.deadLetterQueue).toMatchObject({ ok: false, ...depth, reason: expect.stringContaining(`${waiting} message(s)`) });
  });

  it('names a probe that could not reach its dependency without leaking the error message', async () => {
    const report = await checkHealth([{ name: 'inboundQueue', check: async () => Promise.reject(new TypeError('secret-ish detail')) }]);
    expect(report).toEqual({ status: 'degraded', checks: { inboundQueue: { ok: false, error: 'TypeError' } } });
  });
});
