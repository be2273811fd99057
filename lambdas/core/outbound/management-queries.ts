/** The management API's reads: endpoints, attempt log, deliveries, stats, messages, the event catalog, the audit log. */
import { BadRequestError, NotFoundError } from '../errors';
import type { Attempt, EventTypeEntry } from './outbound-model';
import { toPublicEndpoint } from './endpoint-input';
import { isTimeOrderedId } from './outbound-ids';
import { summarizeEndpointStats, hourKey } from './endpoint-stats';
import { toPublicAttempt, toPublicAuditRecord, toPublicDelivery, toPublicMessage } from './public-views';
import { getEndpoint } from './endpoint-operations';
import type { ManagementDeps } from './management-deps';

export interface ListQuery {
  limit: number;
  cursor?: string;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
/** A real cursor is a few hundred characters (see list-cursor.ts). */
const MAX_CURSOR_LENGTH = 1024;

export function parseListQuery(query: Record<string, string | undefined>, allowed: readonly string[] = []): ListQuery {
  const unknown = Object.keys(query).filter((name) => !['limit', 'cursor', ...allowed].includes(name));
  if (unknown.length > 0) throw new BadRequestError(`unknown query parameter '${unknown[0]}'; expected ${['limit', 'cursor', ...allowed].join(', ')}`);
  let limit = DEFAULT_LIMIT;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!/^\d+$/.test(query.limit) || limit < 1 || limit > MAX_LIMIT) throw new BadRequestError(`limit: must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const cursor = query.cursor;
  if (cursor !== undefined && (cursor === '' || cursor.length > MAX_CURSOR_LENGTH)) throw new BadRequestError('cursor: not a cursor this API returned');
  return { limit, ...(cursor !== undefined ? { cursor } : {}) };
}

/** Path ids are checked for shape first: a malformed one is a 404 without a database read. */
export function requireId(prefix: 'ep' | 'msg' | 'atm', id: string | undefined, what: string): string {
  if (!id || !isTimeOrderedId(prefix, id)) throw new NotFoundError(`no ${what} with id '${(id ?? '').slice(0, 100)}'`);
  return id;
}

export async function listEndpoints(query: Record<string, string | undefined>, deps: ManagementDeps) {
  const page = await deps.endpointStore.list(parseListQuery(query));
  return { endpoints: page.items.map(toPublicEndpoint), cursor: page.cursor ?? null };
}

export async function listAttempts(endpointId: string, query: Record<string, string | undefined>, deps: ManagementDeps) {
  const { status, ...rest } = query;
  if (status !== undefined && status !== 'succeeded' && status !== 'failed') throw new BadRequestError('status: must be succeeded or failed');
  await getEndpoint(endpointId, deps);
  const page = await deps.log.listAttempts(endpointId, { ...parseListQuery(rest), ...(status ? { status: status as Attempt['status'] } : {}) });
  return { attempts: page.items.map(toPublicAttempt), cursor: page.cursor ?? null };
}

export async function listDeliveries(endpointId: string, query: Record<string, string | undefined>, deps: ManagementDeps) {
  const { since, ...rest } = query;
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw new BadRequestError('since: must be an ISO 8601 time');
  await getEndpoint(endpointId, deps);
  const page = await deps.log.listDeliveries(endpointId, { ...parseListQuery(rest), ...(since ? { since: new Date(since).toISOString() } : {}) });
  return { deliveries: page.items.map(toPublicDelivery), cursor: page.cursor ?? null };
}

export async function endpointStats(endpointId: string, deps: ManagementDeps) {
  const endpoint = await getEndpoint(endpointId, deps);
  const nowMs = deps.now().getTime();
  const hours = await deps.log.hourStats(endpointId, hourKey(nowMs - 7 * 86_400_000 + 3_600_000));
  return { endpointId, ...summarizeEndpointStats(endpoint, hours, nowMs) };
}

export async function getMessage(id: string, deps: ManagementDeps) {
  const message = await deps.messages.get(id);
  if (!message) throw new NotFoundError(`no message with id '${id}'`);
  return toPublicMessage(message);
}

/** Declared types (from config, with description and example) merged with every type seen in traffic. */
export async function listEventTypes(deps: ManagementDeps) {
  const seen = new Map((await deps.catalog.listSeen()).map((entry) => [entry.name, entry]));
  const entries: EventTypeEntry[] = deps.declaredEventTypes.map((declared) => ({
    name: declared.name,
    description: declared.description,
    ...(declared.example !== undefined ? { example: declared.example } : {}),
    declared: true,
    ...(seen.has(declared.name) ? { firstSeenAt: seen.get(declared.name)!.firstSeenAt, lastSeenAt: seen.get(declared.name)!.lastSeenAt } : {}),
  }));
  const declaredNames = new Set(deps.declaredEventTypes.map((declared) => declared.name));
  for (const entry of seen.values()) if (!declaredNames.has(entry.name)) entries.push({ ...entry, declared: false });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return { eventTypes: entries };
}

export async function listAudit(query: Record<string, string | undefined>, deps: ManagementDeps) {
  const page = await deps.audit.list(parseListQuery(query));
  return { records: page.items.map(toPublicAuditRecord), cursor: page.cursor ?? null };
}
