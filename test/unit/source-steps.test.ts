import { sourceStepsFor } from '../../lambdas/core/sources/source-steps';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { PRESET_PREPARE_STEPS } from '../../lambdas/providers/prepare-registry';
import type { StoredEvent } from '../../lambdas/core/events/inbound-event';
import { queuedEvent } from '../fixtures/events';

const storedEvent = (id: string): StoredEvent => ({
  ...queuedEvent(),
  id,
  status: 'processed',
  attempts: 1,
  duplicates: 0,
  ownerMessageId: 'm1',
  ownerReceiveCount: 1,
  storedAt: '2026-11-23T10:00:00.000Z',
  expiresAt: 0,
});

const config = parseHookhubConfig({
  sources: [
    { id: 'plain', verification: { scheme: 'none' }, insecure: true },
    { id: 'named', verification: { scheme: 'none' }, insecure: true, processor: 'count' },
    { id: 'missing', verification: { scheme: 'none' }, insecure: true, processor: 'nobody-registered-this' },
    { id: 'ably', preset: 'ably', secret: { env: 'ABLY_API_KEY' } },
  ],
});

describe('sourceStepsFor', () => {
  const counted: string[] = [];
  const ablyProcessed: string[] = [];
  const stepsFor = sourceStepsFor({
    config,
    prepareSteps: PRESET_PREPARE_STEPS,
    presetProcessors: { ably: async (event) => void ablyProcessed.push(event.id) },
    processors: { count: async (event) => void counted.push(event.id) },
  });

  it('gives a source without a preset or processor no steps', () => {
    expect(stepsFor('plain')).toEqual({});
    expect(stepsFor('not-configured')).toEqual({});
  });

  it('runs the processor a source names', async () => {
    await stepsFor('named').process!(storedEvent('evt_1'));
    expect(counted).toEqual(['evt_1']);
  });

  it('fails loudly when a source names a processor nobody registered', async () => {
    await expect(stepsFor('missing').process!(storedEvent('evt_2'))).rejects.toThrow("no processor named 'nobody-registered-this'");
  });

  it("gives a preset source its preset's prepare and processing step", async () => {
    const steps = stepsFor('ably');
    expect(steps.prepare).toEqual(expect.any(Function));
    await steps.process!(storedEvent('evt_3'));
    expect(ablyProcessed).toEqual(['evt_3']);
  });
});
