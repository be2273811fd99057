/**
 * Input that used to be accepted and then could never be stored or read: deeply nested JSON, header names that are
 * Object.prototype members, characters SQS refuses, and bodies that grow when escaped. Through the local runtime:
 * real HTTP, the real SDK clients against dynalite and the SQS stand-in, signatures from the reference signer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalRuntime } from '../../lib/local/local-runtime';
import { startTestRuntime, localAwsClients } from '../fixtures/test-runtime';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { DEFAULT_MAX_BODY_BYTES } from '../../lambdas/core/events/accept-inbound';
import { eventIdFor } from '../../lambdas/core/events/event-id';
import { DEMO_SECRET, standardWebhookHeaders } from '../fixtures/sources';
import { apiClient, postHook, waitUntil } from '../fixtures/local-clients';

const ADMIN_KEY = 'hostile-input-admin-key-0123456789';
const RAW_TOKEN = 'raw-token-0123';
const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-hostile-'));
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let sqs: SQSClient;
let documents: DynamoDBDocumentClient;

type PublicEvent = { id: string; status: string; type: string; headers: Record<string, string>; payloadFormat: string; payload: unknown };

beforeAll(async () => {
  process.env.HOOKHUB_HOSTILE_DEMO_SECRET = DEMO_SECRET;
  process.env.HOOKHUB_HOSTILE_RAW_TOKEN = RAW_TOKEN;
  runtime = await startTestRuntime({
    config: parseHookhubConfig({
      sources: [
        { id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_HOSTILE_DEMO_SECRET' } },
        { id: 'raw', verification: { scheme: 'token', header: 'X-Token' }, secret: { env: 'HOOKHUB_HOSTILE_RAW_TOKEN' }, contentType: 'any' },
      ],
    }),
    dataDir,
    adminKey: ADMIN_KEY,
    visibilityTimeoutSeconds: 1,
  });
  api = apiClient(runtime.httpUrl, ADMIN_KEY);
  ({ sqs, documents } = localAwsClients(runtime));
});

afterAll(async () => {
  sqs.destroy();
  documents.destroy();
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** POSTs with headers given as raw [name, value, ...] pairs, sent exactly as named. */
function postRawHeaders(path: string, body: string, headers: string[]): Promise<{ status: number; body: { ids?: string[]; text?: string } }> {
  return new Promise((resolve, reject) => {
    // Given as an array, node:http adds no header of its own: Host and Content-Length are ours to send.
    const framing = ['host', new URL(runtime.httpUrl).host, 'content-length', String(Buffer.byteLength(body))];
    const request = httpRequest(`${runtime.httpUrl}${path}`, { method: 'POST', headers: [...framing, ...headers], timeout: 10_000 }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as { ids?: string[] } });
        } catch {
          resolve({ status: response.statusCode ?? 0, body: { text } });
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

/** `text` followed by as many one-byte `pad` characters as make it `bytes` long in UTF-8. */
const padToBytes = (text: string, bytes: number, pad: string) => text + pad.repeat(bytes - Buffer.byteLength(text));
const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const sendDemo = (messageId: string, body: string, extraHeaders: Record<string, string> = {}) =>
  postHook(runtime.httpUrl, 'demo', body, { ...standardWebhookHeaders(DEMO_SECRET, messageId, body), ...extraHeaders });
const sendRaw = (body: string) => postHook(runtime.httpUrl, 'raw', body, { 'x-token': RAW_TOKEN, 'content-type': 'text/plain; charset=utf-8' });
const processed = (id: string) =>
  waitUntil(async () => {
    const { status, body } = await api<PublicEvent>(`/api/events/${id}`);
    return status === 200 && body.status === 'processed' && body;
  }, 20_000, `event ${id} to be processed`);

/**
 * Depths once the worker has finished with what it took: an event reads `processed` from its one write, before the
 * push and the SQS delete that follow it (docs/decisions.md, "One write per event").
 */
async function queueDepths() {
  for (let waited = 0; waited < 5_000; waited += 50) {
    const depths = await currentDepths();
    if (depths.inbound === 0) return depths;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return currentDepths();
}

async function currentDepths() {
  const depth = async (QueueUrl: string) => {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
  };
  return { inbound: await depth(runtime.inboundQueueUrl), deadLetter: await depth(runtime.deadLetterQueueUrl) };
}

describe('deeply nested JSON', () => {
  it('is refused at ingest with a 400 naming the limit; 128 levels are accepted', async () => {
    const deep = nested(100_000);
    expect(await sendDemo('msg_deep', deep)).toEqual({
      status: 400,
      body: { error: 'nesting_too_deep', message: 'JSON body nests deeper than 128 levels of objects and arrays; the limit is 128' },
    });
    const fine = await sendDemo('msg_128', nested(128));
    expect(fine.status).toBe(202);
    expect((await processed(fine.body.ids![0]!)).payload).toEqual(JSON.parse(nested(128)));
  });

  it('already queued (as the previous release wrote it) is stored, and every read answers 200', async () => {
    const deep = nested(100_000);
    const id = eventIdFor('demo', 'msg_deep_queued');
    const previousRelease = {
      version: 1,
      id,
      source: 'demo',
      providerEventId: 'msg_deep_queued',
      type: 'webhook',
      channel: 'demo',
      receivedAt: new Date().toISOString(),
      requestId: 'r',
      headers: { 'content-type': 'application/json' },
      body: deep,
      payloadFormat: 'json',
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: runtime.inboundQueueUrl, MessageBody: JSON.stringify(previousRelease) }));
    const stored = await processed(id);
    expect(stored.payload).toEqual({ hookhubUndecodablePayload: { reason: 'nesting_too_deep', text: deep } });

    // The record a failing worker left behind, in the shape items had before (headers as a map).
    const failedId = eventIdFor('demo', 'msg_deep_failed');
    const day = previousRelease.receivedAt.slice(0, 10);
    await documents.send(
      new PutCommand({
        TableName: runtime.tables.events,
        Item: {
          ...previousRelease,
          version: undefined,
          id: failedId,
          providerEventId: 'msg_deep_failed',
          status: 'failed',
          attempts: 5,
          duplicates: 0,
          lastError: 'RangeError: Maximum call stack size exceeded',
          ownerMessageId: 'm',
          ownerReceiveCount: 5,
          leaseUntil: 0,
          storedAt: previousRelease.receivedAt,
          expiresAt: 4_000_000_000,
          day,
          sourceDay: `demo#${day}`,
          statusDay: `failed#${day}`,
          receivedAtId: `${previousRelease.receivedAt}#${failedId}`,
        },
      }),
    );
    for (const path of ['/api/events', '/api/events?status=failed', '/api/events?status=processed&source=demo', `/api/events/${failedId}`]) {
      const { status } = await api(path);
      expect({ path, status }).toEqual({ path, status: 200 });
    }
    const failed = await api<{ events: PublicEvent[] }>('/api/events?status=failed');
    expect(failed.body.events.find((event) => event.id === failedId)!.payload).toEqual({ hookhubUndecodablePayload: { reason: 'nesting_too_deep', text: deep } });
  });
});

describe('header names', () => {
  it('stores an event whose request carries headers named constructor, __proto__, toString or hasOwnProperty', async () => {
    const names = ['__proto__', 'constructor', 'hasownproperty', 'tostring'];
    const body = '{"type":"headers"}';
    const signed = Object.entries(standardWebhookHeaders(DEMO_SECRET, 'msg_headers', body)).flat();
    // node:http with raw header pairs: fetch silently drops a header named __proto__.
    const response = await postRawHeaders('/hooks/demo', body, [...signed, 'constructor', 'c', '__proto__', 'p', 'toString', 't', 'hasOwnProperty', 'h']);
    expect(response).toMatchObject({ status: 202 });
    const stored = await processed(response.body.ids![0]!);
    expect(Object.entries(stored.headers).filter(([name]) => names.includes(name)).sort()).toEqual(
      [['__proto__', 'p'], ['constructor', 'c'], ['hasownproperty', 'h'], ['tostring', 't']],
    );
    expect(await queueDepths()).toEqual({ inbound: 0, deadLetter: 0 });
  });
});

describe('characters SQS refuses and bodies that grow when escaped', () => {
  it('stores a text body of control characters, U+FFFE and U+FFFF, and a JSON type holding U+FFFF, exactly', async () => {
    const text = `a\u0001\u0002\u001f\u007f\ufffe\uffffz`;
    const raw = await sendRaw(text);
    expect(raw.status).toBe(202);
    expect(await processed(raw.body.ids![0]!)).toMatchObject({ payloadFormat: 'text', payload: text });

    const body = JSON.stringify({ type: 'odd\uffff\ufffe', note: '\u0000\u0001' });
    const json = await sendDemo('msg_ffff', body);
    expect(json.status).toBe(202);
    expect(await processed(json.body.ids![0]!)).toMatchObject({ type: 'odd\uffff\ufffe', payload: JSON.parse(body) });
  });

  it('accepts bodies of worst-case characters at the limit, stores them and reads back the same payload; one byte more is a 413 quoting the client size', async () => {
    const limit = DEFAULT_MAX_BODY_BYTES;
    // JSON: `""` strings (each byte escaped to two), escaped control characters and raw U+FFFF (three bytes, six escaped).
    const unit = '"","\\u0001\\u0000","\uffff\uffff",';
    const json = padToBytes(`[${unit.repeat(Math.floor((limit - 10) / Buffer.byteLength(unit)))}""]`, limit, ' ');
    // Text: raw control characters (six bytes each once escaped into JSON: 1.4 MiB, over the queue's 1 MiB) and U+FFFF.
    const text = padToBytes('\uffff'.repeat(1000), limit, '\u0001');
    expect([Buffer.byteLength(json), Buffer.byteLength(text)]).toEqual([limit, limit]);

    const jsonResponse = await sendDemo('msg_worst_json', json);
    const textResponse = await sendRaw(text);
    expect([jsonResponse.status, textResponse.status]).toEqual([202, 202]);
    expect((await processed(jsonResponse.body.ids![0]!)).payload).toEqual(JSON.parse(json));
    expect((await processed(textResponse.body.ids![0]!)).payload).toBe(text);

    const over = `${json} `;
    expect(await sendDemo('msg_worst_over', over)).toEqual({
      status: 413,
      body: { error: 'payload_too_large', message: `payload is ${limit + 1} bytes; the limit is ${limit} bytes` },
    });
    expect(await queueDepths()).toEqual({ inbound: 0, deadLetter: 0 });
  });
});
