/** POST /hooks/{source}: verify the webhook, queue it, answer 202 at once. Slow work happens in the worker. */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadIngestConfig } from '../config';
import { acceptInbound } from '../core/events/accept-inbound';
import { UnknownSourceError } from '../core/errors';
import { findSource, type HookhubConfig } from '../core/sources/source-definition';
import { normalizeHeaders } from '../core/verification/header-map';
import type { InboundQueue, SecretProvider } from '../core/ports';
import { SqsInboundQueue } from '../adapters/sqs/sqs-inbound-queue';
import { createSecretProvider } from '../adapters/secrets/create-secret-provider';
import { jsonErrors } from './http/json-errors';
import { jsonResponse } from './http/json-response';

export interface IngestDeps {
  sources: HookhubConfig;
  queue: InboundQueue;
  secrets: SecretProvider;
  maxBodyBytes: number;
  now: () => Date;
  logger: Logger;
}

export function buildHandler(deps: IngestDeps) {
  return middy(async (event: APIGatewayProxyEventV2) => {
    const sourceId = event.pathParameters?.source ?? '';
    const source = findSource(deps.sources, sourceId);
    if (!source) throw new UnknownSourceError(sourceId);

    const events = await acceptInbound({
      source,
      request: {
        method: event.requestContext.http.method,
        headers: normalizeHeaders(event.headers),
        rawBody: Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8'),
        receivedAt: deps.now(),
        requestId: event.requestContext.requestId,
      },
      loadSecrets: async () => (source.secret ? deps.secrets.secretsFor(source.secret) : []),
      maxBodyBytes: deps.maxBodyBytes,
    });
    await deps.queue.enqueue(events);

    deps.logger.info('accepted', { source: source.id, eventIds: events.map((queued) => queued.id) });
    return jsonResponse(202, { accepted: events.length, ids: events.map((queued) => queued.id) });
  })
    .use(injectLambdaContext(deps.logger))
    .use(jsonErrors(deps.logger));
}

const config = loadIngestConfig();

/** The function's dependencies from its configuration, around a queue (the local runtime passes its own). */
export function ingestDeps(queue: InboundQueue): IngestDeps {
  return {
    sources: config.sources,
    queue,
    secrets: createSecretProvider(config.secretsBackend),
    maxBodyBytes: config.maxBodyBytes,
    now: () => new Date(),
    logger: new Logger({ serviceName: 'hookhub-ingest' }),
  };
}

export const handler = buildHandler(ingestDeps(new SqsInboundQueue(new SQSClient({}), config.inboundQueueUrl)));
