// PLACEHOLDER (replaced by the message-log work): the Ably processing step.
import type { EventProcessor } from '../../core/ports';
import type { AblyMessageLog } from './ably-ports';

export function createAblyProcessor(deps: { log: AblyMessageLog; retentionDays: number; now: () => Date }): EventProcessor {
  void deps;
  return async () => {
    throw new Error('the Ably processing step is not built yet');
  };
}
