// PLACEHOLDER (replaced by the history sync work): the Ably API's and the sync's adapters, wired once per process.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AblySyncConfig } from '../../config';
import type { AblyMessageLog, SyncRun, SyncStateStore } from '../../providers/ably/ably-ports';

export interface AblyContext {
  messageLog: AblyMessageLog;
  syncState: SyncStateStore;
  runSync(request: { sourceId: string; trigger: SyncRun['trigger']; channels?: string[]; sinceMs?: number; timeLimitMs?: number }): Promise<SyncRun>;
}

/** Answers an object whose every call fails, rather than throwing here: handlers build their context at import. */
export function createAblyContext(config: AblySyncConfig, logger: Logger): AblyContext {
  void [config, logger];
  const notBuilt = (): never => {
    throw new Error('the Ably context is not built yet');
  };
  return {
    messageLog: { record: notBuilt, list: notBuilt, channelCounts: notBuilt },
    syncState: { acquireLease: notBuilt, advanceCursor: notBuilt, releaseLease: notBuilt, cursors: notBuilt, saveRun: notBuilt, listRuns: notBuilt },
    runSync: notBuilt,
  };
}
