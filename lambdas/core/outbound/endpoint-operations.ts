/**
 * Endpoint management: create, change, delete, rotate the signing secret, send a test. Each change is validated
 * (URL checked against the SSRF guard), audited, and announced on channel `ops`. The signing secret is answered in
 * full only by create and rotate.
 */
import { ConflictError, NotFoundError } from '../errors';
import type { Endpoint, EndpointSecret, OutboundMessage } from './outbound-model';
import { generateEndpointSecret, parseEndpointCreate, parseEndpointPatch, toPublicEndpoint } from './endpoint-input';
import { timeOrderedId } from './outbound-ids';
import { attemptDelivery } from './attempt-delivery';
import { firstTry } from './publish-message';
import { toPublicAttempt } from './public-views';
import { audit, type Actor, type ManagementDeps } from './management-deps';
import { urlOrigin } from './url-origin';

/** How long a rotated-out secret keeps signing (both signatures are sent), the peers' default. */
export const SECRET_OVERLAP_MS = 24 * 3600_000;

export async function createEndpoint(body: unknown, actor: Actor, deps: ManagementDeps) {
  const settings = parseEndpointCreate(body);
  await deps.urlGuard.check(settings.url);
  const now = deps.now();
  const at = now.toISOString();
  const secret = generateEndpointSecret();
  const endpoint: Endpoint = {
    ...settings,
    id: timeOrderedId('ep', now.getTime()),
    ...(settings.disabled ? { disabledReason: 'manual', disabledAt: at } : {}),
    secrets: [{ secret, createdAt: at }],
    createdAt: at,
    updatedAt: at,
    consecutiveFailures: 0,
  };
  await deps.endpointStore.create(endpoint);
  deps.endpoints.remember(endpoint);
  await audit(deps, actor, 'endpoint.create', `endpoint:${endpoint.id}`, { origin: urlOrigin(endpoint.url) });
  await deps.ops.notify('endpoint.created', { endpointId: endpoint.id, origin: urlOrigin(endpoint.url) });
  return { ...toPublicEndpoint(endpoint), secret };
}

export async function getEndpoint(id: string, deps: Pick<ManagementDeps, 'endpointStore'>): Promise<Endpoint> {
  const endpoint = await deps.endpointStore.get(id);
  if (!endpoint) throw new NotFoundError(`no endpoint with id '${id}'`);
  return endpoint;
}

export async function updateEndpoint(id: string, body: unknown, actor: Actor, deps: ManagementDeps) {
  const changes = parseEndpointPatch(body);
  if (changes.url !== undefined) await deps.urlGuard.check(changes.url);
  const at = deps.now().toISOString();
  const { disabled, ...rest } = changes;
  // Disabling goes through the same conditional write as the circuit breaker, so the reason is recorded.
  const disabledNow = disabled === true && (await deps.endpointStore.disable(id, 'manual', at));
  const settings = disabled === false ? { ...rest, disabled } : rest;
  const updated = Object.keys(settings).length > 0 ? await deps.endpointStore.update(id, settings, at) : await deps.endpointStore.get(id);
  if (!updated) throw new NotFoundError(`no endpoint with id '${id}'`);
  deps.endpoints.remember(updated);
  const fields = Object.keys(changes);
  await audit(deps, actor, 'endpoint.update', `endpoint:${id}`, { fields });
  await deps.ops.notify('endpoint.updated', { endpointId: id, origin: urlOrigin(updated.url), fields, disabled: updated.disabled });
  if (disabledNow) await deps.ops.notify('endpoint.disabled', { endpointId: id, origin: urlOrigin(updated.url), reason: 'manual' });
  return toPublicEndpoint(updated);
}

export async function deleteEndpoint(id: string, actor: Actor, deps: ManagementDeps): Promise<void> {
  const endpoint = await deps.endpointStore.get(id);
  if (!endpoint || !(await deps.endpointStore.delete(id))) throw new NotFoundError(`no endpoint with id '${id}'`);
  deps.endpoints.forget(id);
  await audit(deps, actor, 'endpoint.delete', `endpoint:${id}`, { origin: urlOrigin(endpoint.url) });
  await deps.ops.notify('endpoint.deleted', { endpointId: id, origin: urlOrigin(endpoint.url) });
}

/**
 * A new current secret; the old current one keeps signing for SECRET_OVERLAP_MS, so receivers can switch without
 * rejecting deliveries. Secrets already past their overlap are dropped.
 */
export async function rotateEndpointSecret(id: string, actor: Actor, deps: ManagementDeps) {
  const endpoint = await getEndpoint(id, deps);
  const now = deps.now();
  const expiresAt = new Date(now.getTime() + SECRET_OVERLAP_MS).toISOString();
  const secret = generateEndpointSecret();
  const previous: EndpointSecret[] = endpoint.secrets
    .map((entry, index) => (index === 0 ? { ...entry, expiresAt } : entry))
    .filter((entry) => entry.expiresAt !== undefined && Date.parse(entry.expiresAt) > now.getTime());
  const updated = await deps.endpointStore.setSecrets(id, [{ secret, createdAt: now.toISOString() }, ...previous], now.toISOString(), endpoint.secrets[0]!.secret);
  if (!updated) throw new NotFoundError(`no endpoint with id '${id}'`);
  deps.endpoints.remember(updated);
  await audit(deps, actor, 'endpoint.rotate-secret', `endpoint:${id}`, { previousSecretExpiresAt: expiresAt });
  return { endpointId: id, secret, previousSecretExpiresAt: expiresAt };
}

/** Sends a `webhook.test` message to the endpoint now and answers the attempt (status, duration, body). */
export async function testEndpoint(id: string, actor: Actor, deps: ManagementDeps) {
  const endpoint = await getEndpoint(id, deps);
  const now = deps.now();
  const message: OutboundMessage = {
    id: timeOrderedId('msg', now.getTime()),
    eventType: 'webhook.test',
    source: 'hookhub',
    payload: JSON.stringify({ type: 'webhook.test', timestamp: now.toISOString(), data: { endpointId: id, message: 'a test delivery from hookhub' } }),
    createdAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400,
  };
  await deps.messages.put(message);
  const result = await attemptDelivery(firstTry(message, id, 'manual'), endpoint, deps.attempt, 'test');
  await deps.log.record({ deliveries: [result.delivery], attempts: [result.attempt] });
  await audit(deps, actor, 'endpoint.test', `endpoint:${id}`, { messageId: message.id, status: result.attempt.status });
  return toPublicAttempt(result.attempt);
}

/** Bulk sends (retry-failed, replay) to a disabled endpoint would only be recorded as skipped again. */
export function requireEnabled(endpoint: Endpoint): void {
  if (endpoint.disabled) {
    throw new ConflictError(`endpoint '${endpoint.id}' is disabled (${endpoint.disabledReason ?? 'manual'}); enable it first with PATCH {"disabled": false}`);
  }
}
