/**
 * The JSON body of a management request, parsed once with the refusals every route shares: not JSON → 400, nested
 * deeper than the limit → 400 (it would overflow the stack wherever it is serialized again), empty → `{}`.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { BadRequestError, NestingTooDeepError } from '../../core/errors';
import { exceedsNestingLimit, MAX_JSON_NESTING_DEPTH } from '../../core/events/json-nesting';
import { withoutByteOrderMark } from '../../core/events/byte-order-mark';

export function parseJsonBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): unknown {
  const raw = event.body ?? '';
  const text = withoutByteOrderMark(event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw);
  if (text.trim() === '') return {};
  if (exceedsNestingLimit(text)) throw new NestingTooDeepError(MAX_JSON_NESTING_DEPTH);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError('the body is not valid JSON');
  }
}
