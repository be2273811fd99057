/**
 * Provider-specific processing steps, by the name a source's `processor` field uses. Provider presets (e.g. the
 * ServiceM8 object fetch) register here. The local runtime can add its own for demos and tests.
 */
import type { EventProcessor } from '../core/ports';

export const eventProcessors: Record<string, EventProcessor> = {};
