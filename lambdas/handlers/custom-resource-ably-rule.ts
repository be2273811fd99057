/**
 * CloudFormation custom resource (CDK Provider framework onEvent) that ensures Ably's webhook integration rule at
 * deploy and removes it when the stack goes. It never fails the deploy: Ably being down, a missing token or a bad
 * key is logged and answered as success with `Data.Status` saying what happened, because a webhook rule is
 * something a person can fix by hand, while a failed deploy rolls back the whole hub.
 *
 * PhysicalResourceId: `ably-rule:<appId>:<ruleId>` for a rule this resource manages, `ably-rule:skipped` otherwise.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { optionalBaseUrl } from '../config';
import type { SecretProvider } from '../core/ports';
import { createSecretProvider } from '../adapters/secrets/create-secret-provider';
import { AblyControlClient } from '../adapters/ably/ably-control-client';
import {
  ablyKeyName,
  ensureAblyRule,
  manualRuleInstructions,
  removeAblyRule,
  resolveRuleSettings,
  type AblyControlApi,
} from '../providers/ably/rule-registration';

/** The resource's properties (CloudFormation passes every value as a string). */
export interface AblyRuleResourceProperties {
  SourceId: string;
  TargetUrl: string;
  ApiKeySecretName: string;
  ControlTokenSecretName?: string;
  ChannelFilter?: string;
  TokenHeaderName?: string;
  TokenSecretName?: string;
}

export interface AblyRuleResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResourceProperties: AblyRuleResourceProperties & { ServiceToken?: string };
  OldResourceProperties?: AblyRuleResourceProperties & { ServiceToken?: string };
  PhysicalResourceId?: string;
}

export type AblyRuleStatus = 'skipped' | 'created' | 'exists' | 'deleted' | 'absent' | 'failed';

export interface AblyRuleResourceResponse {
  PhysicalResourceId: string;
  Data: { Status: AblyRuleStatus; Message: string };
}

export const SKIPPED_PHYSICAL_ID = 'ably-rule:skipped';

export interface AblyRuleHandlerDependencies {
  /** A new provider per event: a deploy runs this rarely, and a cached secret must not outlive a rotation. */
  secretProvider: () => SecretProvider;
  controlApi: (token: string) => AblyControlApi;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export function buildHandler(dependencies: AblyRuleHandlerDependencies) {
  const { logger } = dependencies;
  return async (event: AblyRuleResourceEvent): Promise<AblyRuleResourceResponse> => {
    const properties = event.ResourceProperties ?? ({} as AblyRuleResourceProperties);
    const context = { requestType: event.RequestType, sourceId: properties.SourceId, targetUrl: properties.TargetUrl };
    try {
      const secrets = dependencies.secretProvider();
      const response = event.RequestType === 'Delete' ? await onDelete(event, secrets) : await onCreateOrUpdate(event, secrets);
      logger.info({ message: 'ably rule', ...context, physicalResourceId: response.PhysicalResourceId, status: response.Data.Status, detail: response.Data.Message });
      return response;
    } catch (error) {
      // Messages from the client and the core never carry secrets; the stack trace is left out all the same.
      const message = error instanceof Error ? error.message : String(error);
      logger.error({ message: 'ably rule failed; the deploy goes on', ...context, error: message });
      const physicalId = event.RequestType === 'Create' ? SKIPPED_PHYSICAL_ID : (event.PhysicalResourceId ?? SKIPPED_PHYSICAL_ID);
      return { PhysicalResourceId: physicalId, Data: { Status: 'failed', Message: message } };
    }
  };

  async function firstSecret(secrets: SecretProvider, secretName: string | undefined): Promise<string | undefined> {
    if (!secretName) return undefined;
    const [value] = await secrets.secretsFor({ secretName });
    return value;
  }

  async function onCreateOrUpdate(event: AblyRuleResourceEvent, secrets: SecretProvider): Promise<AblyRuleResourceResponse> {
    const properties = event.ResourceProperties;
    const missing = (['SourceId', 'TargetUrl', 'ApiKeySecretName'] as const).filter((name) => !properties?.[name]);
    if (missing.length > 0) throw new Error(`the resource is missing ${missing.join(', ')} (a stack definition error)`);
    // An update that does not manage a rule keeps the previous id, so CloudFormation does not delete the old rule.
    const unchangedId = event.RequestType === 'Update' ? (event.PhysicalResourceId ?? SKIPPED_PHYSICAL_ID) : SKIPPED_PHYSICAL_ID;
    const token = await firstSecret(secrets, properties.ControlTokenSecretName);
    if (!token) {
      // The key's name makes the manual steps exact; without it they still help.
      const keyName = ablyKeyName(await firstSecret(secrets, properties.ApiKeySecretName).catch(() => undefined));
      const instructions = manualRuleInstructions({
        targetUrl: properties.TargetUrl,
        channelFilter: properties.ChannelFilter,
        keyName,
        tokenHeaderName: properties.TokenHeaderName,
      });
      const why = properties.ControlTokenSecretName ? `the secret ${properties.ControlTokenSecretName} is empty` : 'no Ably control token is configured';
      return { PhysicalResourceId: unchangedId, Data: { Status: 'skipped', Message: `${why}; create the rule by hand. ${instructions[0]} ${instructions.slice(1).map((line) => line.trim()).join('; ')}` } };
    }
    const apiKey = await firstSecret(secrets, properties.ApiKeySecretName);
    if (!apiKey) throw new Error(`the API key secret ${properties.ApiKeySecretName} is empty`);
    const tokenValue = properties.TokenHeaderName ? await firstSecret(secrets, properties.TokenSecretName) : undefined;
    if (properties.TokenHeaderName && !tokenValue) throw new Error(`the token header ${properties.TokenHeaderName} is configured but its secret ${properties.TokenSecretName ?? '(none)'} is empty`);

    const { appId, settings } = resolveRuleSettings({
      targetUrl: properties.TargetUrl,
      channelFilter: properties.ChannelFilter,
      apiKey,
      tokenHeader: properties.TokenHeaderName && tokenValue ? { name: properties.TokenHeaderName, value: tokenValue } : undefined,
    });
    const api = dependencies.controlApi(token);
    const result = await ensureAblyRule({ api, appId, ...settings });
    const physicalId = `ably-rule:${appId}:${result.ruleId}`;
    const notes: string[] = [];
    if (result.differences.length > 0) notes.push(`it differs from the configuration (left as is; delete it at Ably and redeploy to re-create it): ${result.differences.join('; ')}`);

    const previous = parsePhysicalId(event.PhysicalResourceId);
    const oldTarget = event.OldResourceProperties?.TargetUrl;
    if (event.RequestType === 'Update' && previous && oldTarget && (previous.appId !== appId || oldTarget !== properties.TargetUrl)) {
      // The hub moved: its old rule would post to a URL it no longer serves (or duplicate deliveries). A failure
      // here is reported, not fatal: CloudFormation's clean-up sends a Delete for the old id and retries it there.
      try {
        const removed = await removeAblyRule({ api, appId: previous.appId, targetUrl: oldTarget });
        notes.push(`old rule at ${oldTarget}: ${removed.action}`);
      } catch (error) {
        notes.push(`old rule at ${oldTarget} not removed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const message = [`rule ${result.ruleId} in app ${appId} ${result.action === 'created' ? 'created' : 'already exists'} for ${properties.TargetUrl}`, ...notes].join('; ');
    return { PhysicalResourceId: physicalId, Data: { Status: result.action, Message: message } };
  }

  async function onDelete(event: AblyRuleResourceEvent, secrets: SecretProvider): Promise<AblyRuleResourceResponse> {
    const physicalId = event.PhysicalResourceId ?? SKIPPED_PHYSICAL_ID;
    const managed = parsePhysicalId(physicalId);
    if (!managed) return { PhysicalResourceId: physicalId, Data: { Status: 'skipped', Message: 'no rule was created by this resource' } };
    const token = await firstSecret(secrets, event.ResourceProperties?.ControlTokenSecretName);
    if (!token) {
      return { PhysicalResourceId: physicalId, Data: { Status: 'skipped', Message: `no Ably control token; delete rule ${managed.ruleId} of app ${managed.appId} by hand` } };
    }
    const removed = await removeAblyRule({ api: dependencies.controlApi(token), appId: managed.appId, ruleId: managed.ruleId });
    return { PhysicalResourceId: physicalId, Data: { Status: removed.action, Message: `rule ${managed.ruleId} of app ${managed.appId}: ${removed.action}` } };
  }
}

export function parsePhysicalId(physicalId: string | undefined): { appId: string; ruleId: string } | undefined {
  const match = /^ably-rule:([^:]+):([^:]+)$/.exec(physicalId ?? '');
  return match ? { appId: match[1]!, ruleId: match[2]! } : undefined;
}

export const handler = buildHandler({
  secretProvider: () => createSecretProvider('secrets-manager'),
  // Read per event, so that a test (or a stand-in Control API) can set it after import.
  controlApi: (token) => new AblyControlClient({ token, baseUrl: optionalBaseUrl('HOOKHUB_ABLY_CONTROL_URL') }),
  logger: new Logger({ serviceName: 'hookhub-ably-rule' }),
});
