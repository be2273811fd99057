/**
 * What a provider preset is: the code behind `"preset": "<name>"` in a source. A preset verifies and parses its
 * provider's requests (the ingest Lambda). Its worker-side steps live apart (prepare-registry.ts, and the processing
 * step wired with its adapters in lambdas/handlers/providers/), so the ingest bundle never carries their libraries.
 */
import type { InboundRequest } from '../core/events/accept-inbound';
import type { QueuedEvent } from '../core/events/inbound-event';
import type { SourceDefinition } from '../core/sources/source-definition';
import type { SecretReference } from '../core/sources/schema-parts';
import type { ProviderPresetName } from './preset-options';

/** An item of a batch request that could not be taken, by its position in the request. */
export interface RejectedItem {
  index: number;
  error: string;
}

/** What one request became: events to queue, items left out on purpose (filters), and items refused. */
export interface IngestResult {
  events: QueuedEvent[];
  ignored: number;
  rejected: RejectedItem[];
}

export interface PresetIngestInput {
  source: SourceDefinition;
  request: InboundRequest;
  /** Every active secret of a reference (the source's `secret`, or one named in its options). */
  secretsFor: (reference: SecretReference) => Promise<string[]>;
  maxBodyBytes: number;
}

export interface ProviderPreset {
  readonly name: ProviderPresetName;
  /** Verifies and parses one request; throws a HookhubError (401, 400, ...) when the whole request is refused. */
  ingest(input: PresetIngestInput): Promise<IngestResult>;
}

/** Run by the worker before the store-once write: the event as it should be stored and pushed. Never throws. */
export type PrepareEvent = (event: QueuedEvent, source: SourceDefinition) => Promise<QueuedEvent>;
