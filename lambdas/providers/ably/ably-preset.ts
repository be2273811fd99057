/** The `ably` preset: Ably integration-rule webhooks (batch, or single with or without the envelope). */
import type { ProviderPreset } from '../provider-preset';
import { ingestAblyRequest } from './ably-ingest';

export const ablyPreset: ProviderPreset = { name: 'ably', ingest: ingestAblyRequest };
