import { createHash } from 'node:crypto';

/**
 * hookhub's event id is derived from (source, provider's event id), not random: the ingest Lambda can return it in
 * the 202 before anything is stored, and every copy of the same provider event maps to the same DynamoDB key, which
 * is what makes the conditional put deduplicate.
 */
export function eventIdFor(sourceId: string, providerEventId: string): string {
  return `evt_${createHash('sha256').update(`${sourceId}\n${providerEventId}`).digest('hex').slice(0, 32)}`;
}

/** For providers that send no id: the same bytes are the same event. */
export function contentHashId(rawBody: Buffer): string {
  return `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
}
