import './../../fixtures/handler-environment';
import { Logger } from '@aws-lambda-powertools/logger';
import { buildHandler } from '../../../lambdas/handlers/scheduled-ably-sync';
import type { AblySyncRequest } from '../../../lambdas/handlers/ably/ably-context';
import type { SyncRun } from '../../../lambdas/providers/ably/ably-ports';

function run(overrides: Partial<SyncRun> = {}): SyncRun {
  return {
    runId: 'run_1',
    source: 'ably',
    trigger: 'schedule',
    startedAt: '2026-12-02T10:00:00.000Z',
    finishedAt: '2026-12-02T10:00:01.000Z',
    durationMs: 1000,
    outcome: 'ok',
    channels: [],
    pages: 1,
    seen: 5,
    stored: 2,
    duplicates: 3,
    errors: [],
    ...overrides,
  };
}

describe('the scheduled Ably sync handler', () => {
  const logger = new Logger({ logLevel: 'SILENT' });

  it("runs the event's source as a scheduled run that stops 45 s before the function's timeout", async () => {
    const requests: AblySyncRequest[] = [];
    const handler = buildHandler({ runSync: async (request) => (requests.push(request), run()) }, logger);
    const result = await handler({ source: 'ably' }, { getRemainingTimeInMillis: () => 300_000 });
    expect(requests).toEqual([{ sourceId: 'ably', trigger: 'schedule', timeLimitMs: 255_000 }]);
    expect(result).toEqual({ runId: 'run_1', outcome: 'ok', stored: 2, duplicates: 3 });
  });

  it('refuses an event that names no source', async () => {
    const handler = buildHandler({ runSync: async () => run() }, logger);
    await expect(handler({}, { getRemainingTimeInMillis: () => 300_000 })).rejects.toThrow('{"source": "<ably source id>"}');
  });

  it('answers a partial run (the next run resumes) without failing the invocation', async () => {
    const handler = buildHandler({ runSync: async () => run({ outcome: 'partial', errors: ['smartadmin-status: 500'] }) }, logger);
    await expect(handler({ source: 'ably' })).resolves.toMatchObject({ outcome: 'partial' });
  });
});
