import '../../fixtures/handler-environment';
import { Logger } from '@aws-lambda-powertools/logger';
import { buildHandler } from '../../../lambdas/handlers/sqs-process-inbound';
import { acceptInbound } from '../../../lambdas/core/events/accept-inbound';
import { InMemoryEventStore } from '../../fixtures/in-memory-event-store';
import { DEMO_SECRET, source, standardWebhookHeaders } from '../../fixtures/sources';
import { context, sqsEvent } from '../../fixtures/api-gateway-events';

const demo = source({ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'X' } });

function queuedBody(messageId: string, payload: object): string {
  const body = JSON.stringify(payload);
  const [event] = acceptInbound({
    source: demo,
    request: { method: 'POST', headers: standardWebhookHeaders(DEMO_SECRET, messageId, body), rawBody: Buffer.from(body), receivedAt: new Date(), requestId: 'r' },
    secrets: [DEMO_SECRET],
    maxBodyBytes: 10_000,
  });
  return JSON.stringify(event);
}

describe('sqs-process-inbound handler', () => {
  it('reports exactly the records that failed and processes the rest', async () => {
    const store = new InMemoryEventStore();
    const fannedOut: string[] = [];
    const handler = buildHandler({
      store,
      fanOut: async (event) => {
        fannedOut.push(event.providerEventId);
        if (event.providerEventId === 'evt-poison') throw new Error('push path down');
        return { sent: 0, gone: 0, failed: 0 };
      },
      processors: {},
      processorFor: () => undefined,
      now: () => new Date(),
      retentionDays: 30,
      logger: new Logger({ logLevel: 'SILENT' }),
    });

    const result = await handler(
      sqsEvent([
        { messageId: 'a', body: queuedBody('evt-a', { n: 1 }) },
        { messageId: 'b', body: 'not json at all' },
        { messageId: 'c', body: queuedBody('evt-poison', { n: 2 }) },
        { messageId: 'd', body: queuedBody('evt-a', { n: 1 }) },
      ]),
      context,
    );

    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['b', 'c']);
    const stored = [...store.events.values()];
    expect(stored.find((event) => event.providerEventId === 'evt-a')).toMatchObject({ status: 'processed', duplicates: 1 });
    expect(stored.find((event) => event.providerEventId === 'evt-poison')).toMatchObject({ status: 'failed', lastError: 'Error: push path down' });
    expect(fannedOut.filter((id) => id === 'evt-a')).toHaveLength(1);
  });
});
