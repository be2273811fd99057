/**
 * The `ably` preset's worker-side prepare step: decodes a queued record's payload from Ably's wire form (`data` with
 * an `encoding` chain such as `json/base64`) with the ably SDK's own decoder, before the event is stored and pushed.
 * The SDK is loaded on the first payload that needs it, in the worker only (see ably-ingest.ts for why). Never
 * throws, and never loses a payload: one that cannot be decoded is stored as it came, with `decodeError` saying why.
 */
import { exceedsNestingLimit, MAX_JSON_NESTING_DEPTH } from '../../core/events/json-nesting';
import type { QueuedEvent } from '../../core/events/inbound-event';
import type { PrepareEvent } from '../provider-preset';
import type { AblyMessageRecord, AblyPresenceRecord } from './ably-message';

type EncodedRecord = AblyMessageRecord | AblyPresenceRecord;

/** The decoded payload (bytes stay base64, the one form JSON can carry), or why there is none. */
type DecodeOutcome = { data: unknown; encoding?: 'base64' } | { error: string };

/** The steps hookhub can undo without a key; `cipher+...` needs the channel's key, `vcdiff` the previous message. */
const DECODABLE_STEPS = new Set(['json', 'utf-8', 'base64']);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

export const prepareAblyEvent: PrepareEvent = async (event) => {
  const record = encodedRecordOf(event);
  if (!record) return event;
  const outcome = await decodeAblyData(record);
  const { encoding: _wireEncoding, ...withoutEncoding } = record;
  if ('error' in outcome) return { ...event, body: JSON.stringify({ ...record, decodeError: outcome.error }) };
  const body = stringifyBounded({ ...withoutEncoding, data: outcome.data, ...(outcome.encoding ? { encoding: outcome.encoding } : {}) });
  if (body === undefined) {
    return { ...event, body: JSON.stringify({ ...record, decodeError: `the decoded data nests deeper than ${MAX_JSON_NESTING_DEPTH} levels` }) };
  }
  return { ...event, body };
};

/** A queued message or presence record whose payload still has an encoding; anything else passes through. */
function encodedRecordOf(event: QueuedEvent): EncodedRecord | undefined {
  if (event.payloadFormat !== 'json') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Partial<EncodedRecord>;
  if (record.kind !== 'message' && record.kind !== 'presence') return undefined;
  if (typeof record.encoding !== 'string' || record.encoding === '') return undefined;
  return record as EncodedRecord;
}

/**
 * Checks first what the SDK would get wrong quietly (its base64 decoder skips stray characters, its utf-8 decoder
 * replaces invalid bytes, and each failure it meets is written to the console with part of the payload), then lets
 * the SDK decode, which undoes the chain right to left and stops at the first step it cannot undo.
 */
async function decodeAblyData(record: EncodedRecord): Promise<DecodeOutcome> {
  const encoding = record.encoding!;
  const refused = preflight(record.data, encoding);
  if (refused) return { error: refused };

  let sdk: typeof import('ably');
  try {
    sdk = await loadAblySdk();
  } catch (error) {
    return { error: `the ably SDK could not be loaded: ${(error as Error).message}` };
  }
  let decoded: { data?: unknown; encoding?: string | null };
  try {
    const wire = { data: record.data, encoding };
    decoded = record.kind === 'message' ? await sdk.Rest.Message.fromEncoded(wire) : await sdk.Rest.PresenceMessage.fromEncoded(wire);
  } catch (error) {
    // v2's fromEncoded reports a failed step through the encoding it leaves (below), but it is not ours to trust blindly.
    return { error: `the ably SDK failed to decode encoding '${encoding}': ${(error as Error).message}` };
  }
  if (decoded.encoding) {
    // What is left of the chain ends with the step that failed.
    const failedStep = decoded.encoding.split('/').at(-1);
    return { error: `the '${failedStep}' step of encoding '${encoding}' could not be decoded` };
  }
  if (decoded.data instanceof Uint8Array) return { data: Buffer.from(decoded.data).toString('base64'), encoding: 'base64' };
  return { data: decoded.data };
}

/** Why the chain cannot be decoded faithfully, or undefined when the SDK may go ahead. */
function preflight(data: unknown, encoding: string): string | undefined {
  const steps = encoding.split('/');
  const unknown = steps.find((step) => !DECODABLE_STEPS.has(step));
  if (unknown !== undefined) {
    return unknown.startsWith('cipher')
      ? `encoding '${encoding}' is encrypted; hookhub holds no channel cipher key`
      : `encoding '${encoding}' has a step hookhub cannot decode ('${unknown}')`;
  }
  if (typeof data !== 'string') return `data must be a string for encoding '${encoding}'`;
  if (steps.at(-1) === 'base64') {
    if (!BASE64.test(data)) return `data is not base64, as encoding '${encoding}' says`;
    if (steps.at(-2) === 'utf-8' && !isUtf8(Buffer.from(data, 'base64'))) return `data is not UTF-8 text, as encoding '${encoding}' says`;
  }
  // A `json` step the SDK cannot parse is reported on the console with part of the payload; find it first.
  const jsonStep = steps.lastIndexOf('json');
  if (jsonStep !== -1) {
    const text = steps.slice(jsonStep + 1).includes('base64') ? Buffer.from(data, 'base64').toString('utf8') : data;
    try {
      JSON.parse(text);
    } catch {
      return `data is not JSON, as encoding '${encoding}' says`;
    }
  }
  return undefined;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The record as JSON, or undefined when its data nests too deep: JSON.parse does not recurse, so a `json` payload
 * nested 100,000 deep decodes fine and then overflows the stack wherever it is serialized (here, the read API).
 */
function stringifyBounded(record: unknown): string | undefined {
  try {
    const text = JSON.stringify(record);
    return exceedsNestingLimit(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

let ablySdk: Promise<typeof import('ably')> | undefined;

/** The SDK on first use: ~360 KB and ~130 ms to load, paid only by a worker that meets an encoded payload. */
function loadAblySdk(): Promise<typeof import('ably')> {
  ablySdk ??= import('ably').catch((error: unknown) => {
    ablySdk = undefined; // let a later event try again
    throw error;
  });
  return ablySdk;
}
