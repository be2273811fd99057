/** Deeply nested JSON: refused at ingest by a linear scan, and harmless to every reader when already stored. */
import { exceedsNestingLimit, jsonNestingDepth, MAX_JSON_NESTING_DEPTH } from '../../lambdas/core/events/json-nesting';
import { decodePayload, toPublicEvent, type StoredEvent } from '../../lambdas/core/events/inbound-event';
import { processInboundEvent } from '../../lambdas/core/events/process-inbound';
import { fanOutEvent, realtimeMessage } from '../../lambdas/core/realtime/fan-out';
import { queuedEvent } from '../fixtures/events';
import { InMemoryEventStore } from '../fixtures/in-memory-event-store';
import { InMemoryConnectionStore, RecordingMessenger } from '../fixtures/in-memory-connections';

/** What the issue reported: 100,000 levels, about 200 KB, accepted and then impossible to serialize again. */
const deeplyNested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

/** JSON text of what `produce` returns, or the error it or the serialization threw, as text. */
function serialized(produce: () => unknown): string {
  try {
    return JSON.stringify(produce());
  } catch (error) {
    return `threw ${String(error)}`;
  }
}

function storedWithBody(body: string): StoredEvent {
  const queued = queuedEvent('msg_deep');
  return {
    ...queued,
    body,
    status: 'failed',
    attempts: 5,
    duplicates: 0,
    ownerMessageId: 'm',
    ownerReceiveCount: 5,
    leaseUntil: 0,
    storedAt: queued.receivedAt,
    expiresAt: 0,
  };
}

describe('jsonNestingDepth', () => {
  it('counts objects and arrays, not brackets inside strings or after escaped quotes', () => {
    expect(jsonNestingDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonNestingDepth('"[[[[{{{{"')).toBe(0);
    expect(jsonNestingDepth('["\\"[[[[", "\\\\", [[]]]')).toBe(3);
    expect(jsonNestingDepth('{"k\\u005b": "\\\\[", "v": {}}')).toBe(2);
    expect(jsonNestingDepth('[][][]')).toBe(1);
  });

  it('scans a million levels without recursion and stops once past the limit', () => {
    expect(jsonNestingDepth(deeplyNested(1_000_000))).toBe(1_000_000);
    expect(jsonNestingDepth(deeplyNested(1_000_000), 128)).toBe(129);
    expect(exceedsNestingLimit(deeplyNested(MAX_JSON_NESTING_DEPTH))).toBe(false);
    expect(exceedsNestingLimit(deeplyNested(MAX_JSON_NESTING_DEPTH + 1))).toBe(true);
  });
});

describe('decodePayload on a record stored before the limit existed', () => {
  const deep = deeplyNested(100_000);

  it('returns the stored text under a marker instead of a value that cannot be serialized again', () => {
    // Only strings reach expect(): a failure must not hand jest the deep value to copy.
    expect(serialized(() => decodePayload({ body: deep, payloadFormat: 'json' }))).toBe(
      JSON.stringify({ hookhubUndecodablePayload: { reason: 'nesting_too_deep', text: deep } }),
    );
    expect(serialized(() => toPublicEvent(storedWithBody(deep)))).toContain('"payload":{"hookhubUndecodablePayload":{"reason":"nesting_too_deep"');
    // 100,000 levels are 200 KB, over a WebSocket message: pushed as the envelope. 50,000 levels (100 KB) fit.
    expect(serialized(() => JSON.parse(realtimeMessage(storedWithBody(deep))))).toContain('"payloadOmitted":true');
    expect(serialized(() => JSON.parse(realtimeMessage(storedWithBody(deeplyNested(50_000)))))).toContain('"hookhubUndecodablePayload"');
  });

  it('never throws on a stored body that does not parse, and leaves good payloads alone', () => {
    expect(decodePayload({ body: '{"cut": ', payloadFormat: 'json' })).toEqual({ hookhubUndecodablePayload: { reason: 'malformed_json', text: '{"cut": ' } });
    expect(decodePayload({ body: deeplyNested(MAX_JSON_NESTING_DEPTH), payloadFormat: 'json' })).toEqual(JSON.parse(deeplyNested(MAX_JSON_NESTING_DEPTH)));
    expect(decodePayload({ body: deep, payloadFormat: 'text' })).toBe(deep);
  });

  it('lets the worker store and fan out a queued message that already holds such a body', async () => {
    const store = new InMemoryEventStore();
    const connections = new InMemoryConnectionStore();
    await connections.save({ connectionId: 'c1', channels: ['demo'], connectedAt: '', expiresAt: 0 });
    const messenger = new RecordingMessenger();
    const queued = { ...queuedEvent('msg_deep'), body: deep };
    const outcome = await processInboundEvent(queued, { messageId: 'm1', receiveCount: 1 }, {
      store,
      fanOut: (event) => fanOutEvent(event, { connections, messenger }),
      stepsFor: () => ({}),
      now: () => new Date('2026-11-23T10:00:01.000Z'),
      retentionDays: 30,
      maxReceiveCount: 5,
    publish: async () => undefined,
    });
    expect(outcome).toMatchObject({ outcome: 'processed', fanOut: { sent: 1 } });
    const stored = (await store.get(queued.id))!;
    expect([stored.status, stored.body === deep, messenger.pushed.length]).toEqual(['processed', true, 1]);
  });
});
