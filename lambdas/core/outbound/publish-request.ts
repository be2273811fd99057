/** The body of POST /api/messages: `{eventType, payload, idempotencyKey?}` (the key may come as an `Idempotency-Key` header). */
import { BadRequestError } from '../errors';
import { EVENT_TYPE_NAME, EVENT_TYPE_NAME_RULE } from './event-type-name';

const MAX_EVENT_TYPE_LENGTH = 200;
/** Printable ASCII: a key is an opaque token the client chose (Stripe allows 255 characters). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function parsePublishRequest(body: unknown, idempotencyHeader: string | undefined): { eventType: string; payload: string; idempotencyKey?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('body must be a JSON object {"eventType": "...", "payload": {...}}');
  }
  const { eventType, payload, idempotencyKey, ...unknown } = body as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new BadRequestError(`unknown field '${extra[0]}'; expected eventType, payload, idempotencyKey`);
  if (typeof eventType !== 'string' || eventType.length > MAX_EVENT_TYPE_LENGTH || !EVENT_TYPE_NAME.test(eventType)) {
    throw new BadRequestError(`eventType: must be ${EVENT_TYPE_NAME_RULE} (at most ${MAX_EVENT_TYPE_LENGTH} characters), e.g. project.created`);
  }
  if (payload === undefined) throw new BadRequestError('payload: is required (any JSON value, usually an object)');
  const key = idempotencyKey ?? idempotencyHeader;
  if (idempotencyKey !== undefined && idempotencyHeader !== undefined && idempotencyKey !== idempotencyHeader) {
    throw new BadRequestError('idempotencyKey: the body and the Idempotency-Key header disagree');
  }
  if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
    throw new BadRequestError('idempotencyKey: must be 1 to 255 printable ASCII characters');
  }
  return { eventType, payload: JSON.stringify(payload), ...(key !== undefined ? { idempotencyKey: key as string } : {}) };
}
