/**
 * What the management operations (endpoint-operations.ts, delivery-operations.ts) need, and the audit trail every
 * change leaves: who (the admin key's id, never the key), what, when, from where.
 */
import type { DeclaredEventType } from '../sources/source-definition';
import type { AuditRecord } from './outbound-model';
import type { AuditLog, DeliveryLog, DeliveryQueue, EndpointStore, EventTypeCatalog, MessageStore, TargetUrlGuard } from './outbound-ports';
import type { EndpointDirectory } from './endpoint-directory';
import type { OpsNotifier } from './ops-events';
import type { AttemptDeps } from './attempt-delivery';
import type { PublishInput, PublishResult } from './publish-message';
import { timeOrderedId } from './outbound-ids';

export interface ManagementDeps {
  endpointStore: EndpointStore;
  endpoints: EndpointDirectory;
  messages: MessageStore;
  log: DeliveryLog;
  queue: DeliveryQueue;
  audit: AuditLog;
  catalog: EventTypeCatalog;
  declaredEventTypes: readonly DeclaredEventType[];
  urlGuard: TargetUrlGuard;
  ops: OpsNotifier;
  publish: (input: PublishInput) => Promise<PublishResult>;
  attempt: AttemptDeps;
  now: () => Date;
  retentionDays: number;
}

/** Who made a request, as the audit log keeps it. */
export interface Actor {
  /** A short digest of the admin key that authorized the request. */
  keyId: string;
  sourceIp?: string;
  userAgent?: string;
}

export async function audit(
  deps: Pick<ManagementDeps, 'audit' | 'now' | 'retentionDays'>,
  actor: Actor,
  action: string,
  target: string,
  details?: Record<string, unknown>,
): Promise<void> {
  const now = deps.now();
  const record: AuditRecord = {
    id: timeOrderedId('aud', now.getTime()),
    at: now.toISOString(),
    actor: actor.keyId,
    action,
    target,
    ...(actor.sourceIp ? { sourceIp: actor.sourceIp } : {}),
    ...(actor.userAgent ? { userAgent: actor.userAgent.slice(0, 256) } : {}),
    ...(details ? { details } : {}),
    expiresAt: Math.floor(now.getTime() / 1000) + Math.max(deps.retentionDays, AUDIT_MIN_RETENTION_DAYS) * 86_400,
  };
  await deps.audit.append(record);
}

/** Audit records outlive the data they describe a little: who deleted an endpoint is asked after the fact. */
const AUDIT_MIN_RETENTION_DAYS = 90;
