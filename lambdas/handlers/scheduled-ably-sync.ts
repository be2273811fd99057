/**
 * The scheduled Ably history sync: EventBridge (the local runtime's timer) invokes it with `{"source": "<id>"}`
 * every `options.history.intervalMinutes`; it reads each channel's history from its cursor and stores what webhooks
 * missed. It stops starting pages well before the function's timeout, and the next run resumes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { loadAblySyncConfig } from '../config';
import { BadRequestError } from '../core/errors';
import { createAblyContext, type AblyContext } from './ably/ably-context';

/** Left for the run's last page to be stored and the run recorded, after it stops starting pages. */
const SAFETY_MARGIN_MS = 45_000;

export interface ScheduledSyncEvent {
  source?: unknown;
}

export function buildHandler(context: Pick<AblyContext, 'runSync'>, logger: Logger) {
  return async (event: ScheduledSyncEvent, lambdaContext?: Pick<Context, 'getRemainingTimeInMillis'>) => {
    if (typeof event?.source !== 'string') throw new BadRequestError('the schedule must pass {"source": "<ably source id>"}');
    const remainingMs = lambdaContext?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
    const run = await context.runSync({ sourceId: event.source, trigger: 'schedule', timeLimitMs: Math.max(1_000, remainingMs - SAFETY_MARGIN_MS) });
    if (run.outcome !== 'ok') logger.warn('ably sync did not finish cleanly', { runId: run.runId, outcome: run.outcome, errors: run.errors });
    return { runId: run.runId, outcome: run.outcome, stored: run.stored, duplicates: run.duplicates };
  };
}

const logger = new Logger({ serviceName: 'hookhub-ably-sync' });

export const handler = buildHandler(createAblyContext(loadAblySyncConfig(), logger), logger);
