/**
 * The presets' worker-side `prepare` steps, by preset name (see provider-preset.ts). Kept out of registry.ts, which
 * the ingest function imports: a step here may load a large library (the ably SDK, to decode payloads) that the
 * ingest bundle should not carry.
 */
import type { PrepareEvent } from './provider-preset';
import type { ProviderPresetName } from './preset-options';
import { prepareAblyEvent } from './ably/ably-prepare';

export const PRESET_PREPARE_STEPS: Readonly<Partial<Record<ProviderPresetName, PrepareEvent>>> = {
  ably: prepareAblyEvent,
};
