/**
 * POST /hooks/{source}: verify the webhook, queue it, answer 202 at once. Slow work happens in the worker. A source
 * with a provider preset is verified and parsed by the preset (one request may be many events); the others by the
 * generic rules of their source definition.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadIngestConfig } from '../config';
import { acceptInbound, type InboundRequest } from '../core/events/accept-inbound';
import { UnknownSourceError } from '../core/errors';
import { findSource, type HookhubConfig, type SourceDefinition } from '../core/sources/source-definition';
import { normalizeHeaders } from '../core/verification/header-map';
import type { InboundQueue, SecretProvider } from '../core/ports';
import { SqsInboundQueue } from '../adapters/sqs/sqs-inbound-queue';
import { createSecretProvider } from '../adapters/secrets/create-secret-provider';
import { PROVIDER_PRESETS } from '../providers/registry';
import type { IngestResult } from '../providers/provider-preset';
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

    const request: InboundRequest = {
      method: event.requestContext.http.method,
      headers: normalizeHeaders(event.headers),
      rawBody: Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8'),
      receivedAt: deps.now(),
      requestId: event.requestContext.requestId,
    };
    const { events, ignored, rejected } = await ingest(source, request, deps);
    await deps.queue.enqueue(events);

    const ids = events.map((queued) => queued.id);
    // The items' errors name fields, never values: a payload never reaches the logs.
    if (rejected.length > 0) deps.logger.warn('items rejected', { source: source.id, rejected });
    deps.logger.info('accepted', { source: source.id, eventIds: ids, ignored });
    return jsonResponse(202, { accepted: events.length, ignored, ids, ...(rejected.length > 0 ? { rejected } : {}) });
  })
    .use(injectLambdaContext(deps.logger))
    .use(jsonErrors(deps.logger));
}

/** The source's preset takes the request if it has one; else the generic rules, which make one event. */
async function ingest(source: SourceDefinition, request: InboundRequest, deps: IngestDeps): Promise<IngestResult> {
  const { maxBodyBytes, secrets } = deps;
  if (source.preset !== undefined) {
    return PROVIDER_PRESETS[source.preset].ingest({ source, request, secretsFor: (reference) => secrets.secretsFor(reference), maxBodyBytes });
  }
  const loadSecrets = async () => (source.secret ? secrets.secretsFor(source.secret) : []);
  return { events: await acceptInbound({ source, request, loadSecrets, maxBodyBytes }), ignored: 0, rejected: [] };
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
