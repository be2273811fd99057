/**
 * The provider presets by name, and the processing steps registered by name (a source's `processor`: demos, tests and
 * embedding applications add theirs; the local runtime's `processorsModule` fills this in its worker thread).
 */
import type { EventProcessor } from '../core/ports';
import type { ProviderPreset } from './provider-preset';
import type { ProviderPresetName } from './preset-options';
import { ablyPreset } from './ably/ably-preset';

export const PROVIDER_PRESETS: Readonly<Record<ProviderPresetName, ProviderPreset>> = {
  ably: ablyPreset,
};

export const eventProcessors: Record<string, EventProcessor> = {};
