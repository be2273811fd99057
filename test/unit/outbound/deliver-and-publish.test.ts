/**
 * The outbound use cases on in-memory ports: publishing (matching, idempotency, durability order) and a delivery
 * batch (records, follow-ups, circuit breaker, rate limit, in-flight cap, waits), with a scripted sender.
 */
import { publishMessage, type PublishDeps } from '../../../lambdas/core/outbound/publish-message';
import { deliverTasks, type DeliverDeps } from '../../../lambdas/core/outbound/deliver-tasks';
import { EndpointDirectory } from '../../../lambdas/core/outbound/endpoint-directory';
import { InFlightTries } from '../../../lambdas/core/outbound/in-flight-tries';
import { SeenEventTypes } from '../../../lambdas/core/outbound/seen-event-types';
import { StatsBuffer } from '../../../lambdas/core/outbound/stats-buffer';
import type { OpsNotifier } from '../../../lambdas/core/outbound/ops-events';
import type { DeliveryTask, Endpoint, OperationalEventType } from '../../../lambdas/core/outbound/outbound-model';
import type { OutgoingRequest, SendResult, WebhookSender } from '../../../lambdas/core/outbound/outbound-ports';
import { ConflictError } from '../../../lambdas/core/errors';
import {
  InMemoryDeliveryLog,
  InMemoryDeliveryQueue,
  InMemoryEndpointStore,
  InMemoryEventTypeCatalog,
  InMemoryIdempotencyStore,
  InMemoryMessageStore,
  InMemoryRateLimiter,
} from '../../fixtures/in-memory-outbound';

const NOW = Date.parse('2026-12-02T12:00:00.000Z');
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function endpoint(id: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    id,
    url: `https://receiver.example/${id}`,
    description: '',
    eventTypes: [],
    sources: [],
    headers: {},
    failureThreshold: 5,
    disabled: false,
    secrets: [{ secret: SECRET, createdAt: new Date(NOW).toISOString() }],
    createdAt: new Date(NOW).toISOString(),
    updatedAt: new Date(NOW).toISOString(),
    consecutiveFailures: 0,
    ...overrides,
  };
}

class ScriptedSender implements WebhookSender {
  readonly requests: OutgoingRequest[] = [];
  constructor(private readonly answer: (request: OutgoingRequest) => SendResult | Promise<SendResult>) {}
  async send(request: OutgoingRequest): Promise<SendResult> {
    this.requests.push(request);
    return this.answer(request);
  }
}

const status = (code: number, headers: Record<string, string> = {}): SendResult => ({ kind: 'response', status: code, headers, body: '', durationMs: 12 });

async function setup(endpoints: Endpoint[], answer: (request: OutgoingRequest) => SendResult | Promise<SendResult>) {
  const store = new InMemoryEndpointStore();
  for (const entry of endpoints) await store.create(entry);
  const messages = new InMemoryMessageStore();
  const log = new InMemoryDeliveryLog(messages);
  const queue = new InMemoryDeliveryQueue();
  const notices: { type: OperationalEventType; data: Record<string, unknown> }[] = [];
  const ops: OpsNotifier = { notify: async (type, data) => void notices.push({ type, data }) };
  const sender = new ScriptedSender(answer);
  let clock = NOW;
  const deps: DeliverDeps = {
    endpoints: new EndpointDirectory(store, 0, () => clock),
    endpointStore: store,
    log,
    stats: new StatsBuffer(log, 0, (error) => {
      throw error;
    }),
    rateLimiter: new InMemoryRateLimiter(),
    queue,
    ops,
    inFlight: new InFlightTries({ initialLimit: 4, maxLimit: 200, slowAfterMs: 2_000 }, () => clock),
    slowTryMs: 2_000,
    onError: (what, error) => {
      throw new Error(`${what}: ${String(error)}`);
    },
    sender,
    now: () => new Date(clock),
    random: () => 0.5,
    timeoutMs: 1_000,
    retentionDays: 30,
  };
  return { store, log, messages, queue, notices, sender, deps, advance: (ms: number) => (clock += ms) };
}

function task(endpointId: string, overrides: Partial<DeliveryTask> = {}): DeliveryTask {
  return {
    messageId: 'msg_01JEXAMPLE00000000000000001',
    endpointId,
    eventType: 'project.created',
    source: 'app',
    payload: '{"projectId":"p_1"}',
    attemptNumber: 1,
    trigger: 'scheduled',
    createdAt: new Date(NOW).toISOString(),
    ...overrides,
  };
}

describe('deliverTasks', () => {
  it('records a success in one batched write and queues nothing more', async () => {
    const { deps, log, queue } = await setup([endpoint('ep_a')], () => status(204));
    const { results, summary } = await deliverTasks([task('ep_a'), task('ep_a', { messageId: 'msg_01JEXAMPLE00000000000000002' })], deps);
    expect(results).toEqual([{ kind: 'done' }, { kind: 'done' }]);
    expect(summary).toMatchObject({ succeeded: 2, failed: 0 });
    expect(log.recorded).toHaveLength(1); // deliveries and attempts of the whole batch, one write
    expect(log.recorded[0]!.attempts).toHaveLength(2);
    expect([...log.deliveries.values()].map((delivery) => delivery.status)).toEqual(['succeeded', 'succeeded']);
    expect(queue.sent).toHaveLength(0);
    expect([...log.stats.values()][0]).toMatchObject({ succeeded: 2, failed: 0 });
  });

  it('queues the next try with the schedule delay after a 500, and marks the delivery pending', async () => {
    const { deps, log, queue } = await setup([endpoint('ep_a', { retrySchedule: [30, 60] })], () => status(500));
    await deliverTasks([task('ep_a')], deps);
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]!.task).toMatchObject({ attemptNumber: 2, messageId: 'msg_01JEXAMPLE00000000000000001' });
    expect(queue.sent[0]!.delaySeconds).toBe(30); // random 0.5 = no jitter
    expect([...log.deliveries.values()][0]).toMatchObject({ status: 'pending', attempts: 1, lastResponseStatus: 500 });
  });

  it('waits out a delay longer than SQS allows with notBefore, then hides the message until then', async () => {
    const { deps, queue, advance } = await setup([endpoint('ep_a', { retrySchedule: [7200] })], () => status(503));
    await deliverTasks([task('ep_a')], deps);
    const next = queue.sent[0]!;
    expect(next.delaySeconds).toBe(900);
    expect(Date.parse(next.task.notBefore!) - NOW).toBe(7_200_000);
    advance(900_000);
    const { results } = await deliverTasks([next.task], deps);
    expect(results).toEqual([{ kind: 'wait', seconds: 6_300 }]);
  });

  it('marks the delivery exhausted after the last try and says so on ops', async () => {
    const { deps, log, queue, notices } = await setup([endpoint('ep_a', { retrySchedule: [5] })], () => status(500));
    await deliverTasks([task('ep_a', { attemptNumber: 2 })], deps);
    expect(queue.sent).toHaveLength(0);
    expect([...log.deliveries.values()][0]!.status).toBe('exhausted');
    expect(notices.map((notice) => notice.type)).toEqual(['message.attempt.exhausted']);
  });

  it('disables an endpoint that answers 410, once, and records later tasks as skipped without sending', async () => {
    const { deps, log, notices, sender, store } = await setup([endpoint('ep_a')], () => status(410));
    await deliverTasks([task('ep_a')], deps);
    expect((await store.get('ep_a'))!).toMatchObject({ disabled: true, disabledReason: 'gone' });
    expect(notices.filter((notice) => notice.type === 'endpoint.disabled')).toHaveLength(1);
    const sent = sender.requests.length;
    await deliverTasks([task('ep_a', { messageId: 'msg_01JEXAMPLE00000000000000009' })], deps);
    expect(sender.requests).toHaveLength(sent);
    expect(await log.getDelivery('ep_a', 'msg_01JEXAMPLE00000000000000009')).toMatchObject({ status: 'skipped', attempts: 0 });
  });

  it('trips the breaker at the failure threshold, and a success before it resets the run', async () => {
    let answer = 500;
    const { deps, store, notices } = await setup([endpoint('ep_a', { failureThreshold: 3 })], () => status(answer));
    await deliverTasks([task('ep_a'), task('ep_a')], deps);
    expect((await store.get('ep_a'))!.consecutiveFailures).toBe(2);
    answer = 200;
    await deliverTasks([task('ep_a')], deps);
    expect((await store.get('ep_a'))!.consecutiveFailures).toBe(0);
    answer = 500;
    // One at a time: after failures the endpoint's in-flight limit shrinks and a batch's extra tasks wait.
    for (let round = 0; round < 3; round++) await deliverTasks([task('ep_a')], deps);
    expect((await store.get('ep_a'))!).toMatchObject({ disabled: true, disabledReason: 'failures' });
    expect(notices.map((notice) => notice.type)).toContain('endpoint.disabled');
  });

  it('defers what the rate limit does not grant, spread over the seconds it needs, without sending it', async () => {
    const { deps, queue, sender } = await setup([endpoint('ep_a', { rateLimitPerSecond: 2 })], () => status(200));
    const { summary } = await deliverTasks(Array.from({ length: 6 }, (_, index) => task('ep_a', { messageId: `msg_01JEXAMPLE0000000000000000${index}` })), deps);
    expect(sender.requests).toHaveLength(2);
    expect(summary.deferred).toBe(4);
    expect(queue.sent.map((entry) => [entry.task.attemptNumber, entry.delaySeconds])).toEqual([
      [1, 2],
      [1, 2],
      [1, 3],
      [1, 3],
    ]);
  });

  it('starts no new try to an endpoint whose tries hang, so its tasks do not hold the batch', async () => {
    let release!: () => void;
    const hanging = new Promise<SendResult>((resolve) => (release = () => resolve(status(200))));
    const { deps, queue, advance, sender } = await setup([endpoint('ep_slow'), endpoint('ep_fast')], (request) => (request.url.endsWith('ep_slow') ? hanging : status(200)));
    const first = deliverTasks([task('ep_slow')], deps);
    while (sender.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    advance(3_000); // the try to ep_slow has been running longer than slowAfterMs
    const second = await deliverTasks([task('ep_slow', { messageId: 'msg_01JEXAMPLE00000000000000002' }), task('ep_fast')], deps);
    expect(second.summary).toMatchObject({ succeeded: 1, deferred: 1 });
    expect(queue.sent.map((entry) => entry.task.endpointId)).toEqual(['ep_slow']);
    release();
    await first;
  });

  it('signs each try with every active secret, the webhook-id being the message id', async () => {
    const old = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
    const { deps, sender } = await setup(
      [endpoint('ep_a', { secrets: [{ secret: SECRET, createdAt: '' }, { secret: old, createdAt: '', expiresAt: new Date(NOW + 3600_000).toISOString() }] })],
      () => status(200),
    );
    await deliverTasks([task('ep_a')], deps);
    const headers = sender.requests[0]!.headers;
    expect(headers['webhook-id']).toBe('msg_01JEXAMPLE00000000000000001');
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
  });

  it('stores the message record that its first task carries, in the same batched write', async () => {
    const { deps, log, messages } = await setup([endpoint('ep_a'), endpoint('ep_b')], () => status(200));
    await deliverTasks([task('ep_a', { recordMessage: true }), task('ep_b')], deps);
    expect(log.recorded).toHaveLength(1);
    expect(log.recorded[0]!.messages.map((message) => message.id)).toEqual(['msg_01JEXAMPLE00000000000000001']);
    expect(await messages.get('msg_01JEXAMPLE00000000000000001')).toMatchObject({ eventType: 'project.created', payload: '{"projectId":"p_1"}', source: 'app' });
  });

  it('records a healthy endpoint\'s success at most every SUCCESS_REFRESH_MS, but always ends a failure run', async () => {
    const { deps, store, advance } = await setup([endpoint('ep_a')], () => status(200));
    const writes = jest.spyOn(store, 'recordSuccess');
    await deliverTasks([task('ep_a')], deps);
    await deliverTasks([task('ep_a')], deps);
    expect(writes).toHaveBeenCalledTimes(1);
    advance(11_000);
    await deliverTasks([task('ep_a')], deps);
    expect(writes).toHaveBeenCalledTimes(2);
    await store.recordFailures('ep_a', 2, new Date().toISOString());
    advance(2_000); // the directory (no cache here) sees the failures at once
    await deliverTasks([task('ep_a')], deps);
    expect(writes).toHaveBeenCalledTimes(3);
    expect((await store.get('ep_a'))!.consecutiveFailures).toBe(0);
  });

  it('reports only the tasks of an endpoint it could not read as failed, and still delivers the others', async () => {
    const { deps, sender } = await setup([endpoint('ep_a'), endpoint('ep_b')], () => status(200));
    const errors: string[] = [];
    deps.onError = (what) => void errors.push(what);
    const get = deps.endpoints.get.bind(deps.endpoints);
    deps.endpoints.get = async (id) => {
      if (id === 'ep_b') throw new Error('DynamoDB unavailable');
      return get(id);
    };
    const { results } = await deliverTasks([task('ep_a'), task('ep_b')], deps);
    expect(results).toEqual([{ kind: 'done' }, { kind: 'failed' }]);
    expect(sender.requests.map((request) => request.url)).toEqual(['https://receiver.example/ep_a']);
    expect(errors).toEqual(['endpoint ep_b: tasks not sent']);
  });

  it('has SQS deliver a task again when its next try cannot be queued, without failing the rest', async () => {
    const { deps, queue, log } = await setup([endpoint('ep_ok'), endpoint('ep_down')], (request) => status(request.url.endsWith('ep_down') ? 500 : 200));
    deps.onError = () => undefined;
    queue.failNext();
    const { results } = await deliverTasks([task('ep_ok'), task('ep_down')], deps);
    expect(results).toEqual([{ kind: 'done' }, { kind: 'failed' }]);
    expect(log.recorded).toHaveLength(1); // both tries are recorded all the same
  });

  it('says message.attempt.failing at a message\'s 4th failed try, and endpoint.recovered when a failing endpoint answers again', async () => {
    let answer = 500;
    const { deps, notices } = await setup([endpoint('ep_a', { failureThreshold: 100 })], () => status(answer));
    for (let attemptNumber = 1; attemptNumber <= 4; attemptNumber++) await deliverTasks([task('ep_a', { attemptNumber })], deps);
    expect(notices.map((notice) => notice.type)).toEqual(['message.attempt.failing']);
    expect(notices[0]!.data).toMatchObject({ endpointId: 'ep_a', attemptNumber: 4, lastAttempt: { responseStatus: 500 } });
    answer = 200;
    await deliverTasks([task('ep_a', { attemptNumber: 5 })], deps);
    expect(notices.map((notice) => notice.type)).toEqual(['message.attempt.failing', 'endpoint.recovered']);
    expect(notices[1]!.data).toMatchObject({ endpointId: 'ep_a', failuresBefore: 4, origin: 'https://receiver.example' });
  });

  it('drops the tasks of a deleted endpoint', async () => {
    const { deps, log, sender } = await setup([], () => status(200));
    const { summary } = await deliverTasks([task('ep_gone')], deps);
    expect(summary.dropped).toBe(1);
    expect(sender.requests).toHaveLength(0);
    expect(log.deliveries.size).toBe(0);
  });
});

describe('publishMessage', () => {
  async function publishSetup(endpoints: Endpoint[]) {
    const store = new InMemoryEndpointStore();
    for (const entry of endpoints) await store.create(entry);
    const messages = new InMemoryMessageStore();
    const queue = new InMemoryDeliveryQueue();
    const idempotency = new InMemoryIdempotencyStore();
    let clock = NOW;
    const deps: PublishDeps = {
      endpoints: new EndpointDirectory(store, 0),
      messages,
      queue,
      idempotency,
      seenEventTypes: new SeenEventTypes(new InMemoryEventTypeCatalog(), (error) => {
        throw error;
      }),
      now: () => new Date(clock),
      retentionDays: 30,
    };
    return { deps, messages, queue, idempotency, advance: (ms: number) => (clock += ms) };
  }

  it('queues one task per matching endpoint, disabled ones included, the first carrying the message record', async () => {
    const { deps, messages, queue } = await publishSetup([
      endpoint('ep_all'),
      endpoint('ep_projects', { eventTypes: ['project.*'] }),
      endpoint('ep_invoices', { eventTypes: ['invoice.*'] }),
      endpoint('ep_off', { eventTypes: ['project.created'], disabled: true }),
    ]);
    const result = await publishMessage({ eventType: 'project.created', payload: '{"a":1}', source: 'app' }, deps);
    expect(result.queued).toBe(3);
    expect(messages.messages.size).toBe(0); // written by the worker that takes the first task
    expect(queue.sent.map((entry) => entry.task.endpointId).sort()).toEqual(['ep_all', 'ep_off', 'ep_projects']);
    expect(queue.sent.filter((entry) => entry.task.recordMessage).map((entry) => entry.task.payload)).toEqual(['{"a":1}']);
  });

  it('fails the publish when the queue refuses, so no 202 is given for undeliverable work', async () => {
    const { deps, queue } = await publishSetup([endpoint('ep_all')]);
    queue.failNext();
    await expect(publishMessage({ eventType: 'a.b', payload: '{}', source: 'app' }, deps)).rejects.toThrow();
  });

  it('keeps no record of an unmatched inbound message, but writes one for an unmatched application message', async () => {
    const { deps, messages } = await publishSetup([endpoint('ep_x', { eventTypes: ['x.*'] })]);
    const inbound = await publishMessage({ eventType: 'github.push', payload: '{}', source: 'github', storeWhenUnmatched: false }, deps);
    const app = await publishMessage({ eventType: 'project.created', payload: '{}', source: 'app' }, deps);
    expect(messages.messages.has(inbound.id)).toBe(false);
    expect(messages.messages.has(app.id)).toBe(true);
  });

  it('answers the first id for a repeated key, 409 while the first is unfinished, and takes over a stale claim', async () => {
    const { deps, queue, idempotency, advance } = await publishSetup([endpoint('ep_all')]);
    const first = await publishMessage({ eventType: 'a.b', payload: '{}', source: 'app', idempotencyKey: 'k1' }, deps);
    expect(await publishMessage({ eventType: 'a.b', payload: '{}', source: 'app', idempotencyKey: 'k1' }, deps)).toEqual({ id: first.id, queued: 0, repeated: true });
    expect(queue.sent).toHaveLength(1);

    await idempotency.begin('k2', 'msg_01JCRASHED0000000000000000', new Date(NOW).toISOString(), NOW / 1000 + 86_400);
    await expect(publishMessage({ eventType: 'a.b', payload: '{}', source: 'app', idempotencyKey: 'k2' }, deps)).rejects.toBeInstanceOf(ConflictError);
    advance(60_000);
    const takenOver = await publishMessage({ eventType: 'a.b', payload: '{}', source: 'app', idempotencyKey: 'k2' }, deps);
    expect(takenOver).toMatchObject({ id: 'msg_01JCRASHED0000000000000000', repeated: false, queued: 1 });
  });
});
