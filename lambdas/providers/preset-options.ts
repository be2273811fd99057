/**
 * The presets' names and option schemas, apart from their ingest and processing code: the sources schema (which
 * every handler loads) needs these alone.
 */
import { ablyOptionsSchema } from './ably/ably-options';

export const PROVIDER_PRESET_NAMES = ['ably'] as const;
export type ProviderPresetName = (typeof PROVIDER_PRESET_NAMES)[number];

export function providerOptionsSchema(preset: ProviderPresetName) {
  switch (preset) {
    case 'ably':
      return ablyOptionsSchema();
  }
}
