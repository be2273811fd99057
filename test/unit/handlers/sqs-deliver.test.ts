import '../../fixtures/handler-environment';
import { Logger } from '@aws-lambda-powertools/logger';
import { buildHandler } from '../../../lambdas/handlers/sqs-deliver';
import { encodeDeliveryTask } from '../../../lambdas/core/outbound/delivery-task-codec';
import { EndpointDirectory } from '../../../lambdas/core/outbound/endpoint-directory';
import { InFlightTries } from '../../../lambdas/core/outbound/in-flight-tries';
import { StatsBuffer } from '../../../lambdas/core/outbound/stats-buffer';
import { MAX_QUEUE_VISIBILITY_SECONDS } from '../../../lambdas/core/outbound/attempt-delivery';
import type { DeliveryTask } from '../../../lambdas/core/outbound/outbound-model';
import { InMemoryDeliveryLog, InMemoryDeliveryQueue, InMemoryEndpointStore, InMemoryRateLimiter } from '../../fixtures/in-memory-outbound';
import { context, sqsEvent } from '../../fixtures/api-gateway-events';

function setup() {
  const endpoints = new InMemoryEndpointStore();
  const log = new InMemoryDeliveryLog();
  const hidden: { receiptHandle: string; seconds: number }[] = [];
  const sent: string[] = [];
  const handler = buildHandler({
    deliver: {
      endpoints: new EndpointDirectory(endpoints, 0),
      endpointStore: endpoints,
      log,
      stats: new StatsBuffer(log, 0, () => undefined),
      rateLimiter: new InMemoryRateLimiter(),
      queue: new InMemoryDeliveryQueue(),
      ops: { notify: async () => undefined },
      inFlight: new InFlightTries({ initialLimit: 4, maxLimit: 200, slowAfterMs: 2_000 }),
      slowTryMs: 2_000,
      onError: () => undefined,
      sender: { send: async (request) => (sent.push(request.url), { kind: 'response', status: 200, headers: {}, body: '', durationMs: 1 }) },
      now: () => new Date(),
      random: () => 0.5,
      timeoutMs: 1_000,
      retentionDays: 30,
    },
    hide: async (receiptHandle, seconds) => void hidden.push({ receiptHandle, seconds }),
    logger: new Logger({ logLevel: 'SILENT' }),
  });
  return { handler, hidden, sent };
}

const task = (overrides: Partial<DeliveryTask> = {}): DeliveryTask => ({
  messageId: 'msg_01JEXAMPLE00000000000000001',
  endpointId: 'ep_01JEXAMPLE00000000000000001',
  eventType: 'project.created',
  source: 'app',
  payload: '{}',
  attemptNumber: 2,
  trigger: 'scheduled',
  createdAt: new Date().toISOString(),
  ...overrides,
});

describe('sqs-deliver handler', () => {
  it('hides a task that is not due for at most what SQS allows from its receive, and keeps it (a batch item failure)', async () => {
    const { handler, hidden, sent } = setup();
    const notBefore = new Date(Date.now() + 20 * 3600_000).toISOString();
    const result = await handler(sqsEvent([{ messageId: 'm-wait', body: encodeDeliveryTask(task({ notBefore })) }]), context);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-wait' }] });
    expect(hidden).toHaveLength(1);
    expect(hidden[0]!.receiptHandle).toBe('rh-m-wait');
    expect(hidden[0]!.seconds).toBeLessThanOrEqual(MAX_QUEUE_VISIBILITY_SECONDS - 60);
    expect(hidden[0]!.seconds).toBeGreaterThan(MAX_QUEUE_VISIBILITY_SECONDS - 120);
    expect(sent).toEqual([]);
  });

  it('reports a message that is not a delivery task as failed, and the rest as done', async () => {
    const { handler } = setup();
    const result = await handler(
      sqsEvent([
        { messageId: 'm-bad', body: 'not json' },
        { messageId: 'm-gone', body: encodeDeliveryTask(task()) }, // its endpoint does not exist: dropped, done
      ]),
      context,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }] });
  });
});
