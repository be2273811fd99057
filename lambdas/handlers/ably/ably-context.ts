/**
 * The Ably preset's pieces, built from configuration once per cold start, for the two functions that use them: the
 * scheduled history sync and the Ably API (message log, stats, sync on demand). A sync stores what it reads through
 * the inbound worker's own store-once path (inbound-processing.ts).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AblySyncConfig } from '../../config';
import { ConfigurationError, NotFoundError } from '../../core/errors';
import { processInboundEvent, type ProcessInboundDeps } from '../../core/events/process-inbound';
import type { QueuedEvent } from '../../core/events/inbound-event';
import { timeOrderedId } from '../../core/outbound/outbound-ids';
import { findSource } from '../../core/sources/source-definition';
import type { AblyMessageLog, AblyHistoryReader, StoreOnce, SyncRun, SyncStateStore } from '../../providers/ably/ably-ports';
import { runAblySync } from '../../providers/ably/history-sync';
import type { AblyOptions } from '../../providers/ably/ably-options';
import { createDocumentClient } from '../../adapters/dynamodb/document-client';
import { DynamoDbAblyMessageLog } from '../../adapters/dynamodb/ably-message-log';
import { DynamoDbSyncStateStore } from '../../adapters/dynamodb/ably-state-store';
import { AblyRestHistoryReader } from '../../adapters/ably/ably-history-reader';
import { createSecretProvider } from '../../adapters/secrets/create-secret-provider';
import { createStoreOnceWiring, forBatch, type StoreOnceWiring } from '../inbound/inbound-processing';

export interface AblySyncRequest {
  sourceId: string;
  trigger: SyncRun['trigger'];
  channels?: string[];
  sinceMs?: number;
  /** The caller's own bound (the API's 25 s, the Lambda's remaining time); the source's timeLimitSeconds also applies. */
  timeLimitMs?: number;
}

export interface AblyContext {
  messageLog: AblyMessageLog;
  syncState: SyncStateStore;
  runSync(request: AblySyncRequest): Promise<SyncRun>;
}

/**
 * How long one run reuses its subscriber lookups: a worker batch takes a fresh cache per batch, and a run that reads
 * for minutes must still reach a client that subscribed meanwhile.
 */
const SUBSCRIBER_CACHE_MS = 5_000;

export function createAblyContext(config: AblySyncConfig, logger: Logger): AblyContext {
  const documentClient = createDocumentClient();
  const wiring = createStoreOnceWiring(config, documentClient, logger);
  const messageLog = new DynamoDbAblyMessageLog(documentClient, { messages: config.ablyMessagesTable, state: config.ablyStateTable });
  const syncState = new DynamoDbSyncStateStore(documentClient, config.ablyStateTable);
  const secrets = createSecretProvider(config.secretsBackend);
  const readers = new Map<string, AblyHistoryReader>();

  const runSync = async (request: AblySyncRequest): Promise<SyncRun> => {
    const source = findSource(config.sources, request.sourceId);
    if (!source || source.preset !== 'ably') throw new NotFoundError(`no source '${request.sourceId}' with preset 'ably' is configured`);
    const options = source.options as AblyOptions;
    const [apiKey] = source.secret ? await secrets.secretsFor(source.secret) : [];
    if (!apiKey) throw new ConfigurationError(`source '${source.id}' has no Ably API key (its secret is empty)`);
    let reader = readers.get(apiKey);
    if (!reader) readers.set(apiKey, (reader = new AblyRestHistoryReader({ apiKey, restUrl: config.ablyRestUrl })));

    const startedMs = Date.now();
    const runId = timeOrderedId('run', startedMs);
    const timeLimitMs = Math.min(options.history.timeLimitSeconds * 1000, request.timeLimitMs ?? Number.POSITIVE_INFINITY);
    const run = await runAblySync(
      {
        source,
        trigger: request.trigger,
        channels: request.channels,
        sinceMs: request.sinceMs,
        deadlineMs: startedMs + timeLimitMs,
        runExpiresAt: Math.floor(startedMs / 1000) + config.retentionDays * 86_400,
      },
      { reader, state: syncState, storeOnce: historyStoreOnce(wiring, runId), now: () => Date.now(), newRunId: () => runId },
    );
    logger.info('ably sync run', { ...run, channels: run.channels.length });
    return run;
  };
  return { messageLog, syncState, runSync };
}

/**
 * One message read from history, through the worker's store-once path. The claim stands for this run, and it is
 * treated as a last delivery (receive 1 of 1): the record reads `failed` until its steps, push and publish are done,
 * so if the run dies midway, the next run or a webhook retry takes the message over instead of finding it stored
 * but never pushed (process-inbound.ts).
 */
function historyStoreOnce(wiring: StoreOnceWiring, runId: string): StoreOnce {
  let deps: ProcessInboundDeps | undefined;
  let builtAt = 0;
  return async (event: QueuedEvent) => {
    if (!deps || Date.now() - builtAt > SUBSCRIBER_CACHE_MS) {
      deps = { ...forBatch(wiring), maxReceiveCount: 1 };
      builtAt = Date.now();
    }
    const outcome = await processInboundEvent(event, { messageId: `history:${runId}`, receiveCount: 1 }, deps);
    return outcome.outcome === 'processed' ? 'stored' : 'duplicate';
  };
}
