/**
 * Which steps the worker runs for a source: its provider preset's `prepare` and processing step, or the processor a
 * source names (`"processor": "..."`, registered by name). A name nobody registered fails each event of the source
 * loudly (the CDK app refuses such a config at synth) rather than storing it as if it had been processed.
 */
import type { EventProcessor } from '../ports';
import type { SourceSteps } from '../events/process-inbound';
import type { HookhubConfig } from './source-definition';
import type { PrepareEvent } from '../../providers/provider-preset';
import type { ProviderPresetName } from '../../providers/preset-options';

export function sourceStepsFor(input: {
  config: HookhubConfig;
  /** Each preset's prepare step (prepare-registry.ts). */
  prepareSteps: Readonly<Partial<Record<ProviderPresetName, PrepareEvent>>>;
  /** Each preset's processing step, built with its adapters by the handler. */
  presetProcessors: Readonly<Partial<Record<ProviderPresetName, EventProcessor>>>;
  processors: Readonly<Record<string, EventProcessor>>;
}): (sourceId: string) => SourceSteps {
  const bySource = new Map<string, SourceSteps>();
  for (const source of input.config.sources) {
    const steps: SourceSteps = {};
    if (source.preset !== undefined) {
      const prepare = input.prepareSteps[source.preset];
      if (prepare) steps.prepare = (event) => prepare(event, source);
      steps.process = input.presetProcessors[source.preset];
    }
    if (source.processor !== undefined) {
      const name = source.processor;
      steps.process = async (event) => {
        const processor = Object.hasOwn(input.processors, name) ? input.processors[name] : undefined;
        if (!processor) throw new Error(`no processor named '${name}' is registered`);
        await processor(event);
      };
    }
    bySource.set(source.id, steps);
  }
  return (sourceId) => bySource.get(sourceId) ?? {};
}
