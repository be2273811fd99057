/**
 * Ensures Ably's webhook integration rule (Control API) points at this hub's `/hooks/{source}` URL: the one piece of
 * logic behind the deploy-time custom resource and `npm run register -- ably`. Pure over a small port
 * (`AblyControlApi`), so the matching rules are tested without a network and both callers stay thin.
 *
 * A rule is ours when its target URL is ours and its source type is `channel.message`: every other rule of the app
 * is left alone, whoever made it.
 */
import { ConfigurationError } from '../../core/errors';
import type { SecretReference } from '../../core/sources/schema-parts';
import type { SourceDefinition } from '../../core/sources/source-definition';
import type { AblyOptions } from './ably-options';

/** The only source type the rule listens to (presence and lifecycle would need rules of their own). */
export const ABLY_RULE_SOURCE_TYPE = 'channel.message';

export interface AblyRuleHeader {
  name: string;
  value: string;
}

/** Exactly the create body of providers.md: the Control API rejects any property it does not know. */
export interface AblyRuleBody {
  ruleType: 'http';
  requestMode: 'batch';
  status: 'enabled';
  source: { channelFilter: string; type: typeof ABLY_RULE_SOURCE_TYPE };
  target: { url: string; format: 'json'; enveloped: true; signingKeyId: string; headers?: AblyRuleHeader[] };
}

/**
 * A rule as the Control API lists it. Rules of other kinds (queues, Lambda, Kafka...) lack most of these fields, so
 * everything matching reads is optional.
 */
export interface AblyRule {
  id: string;
  ruleType?: string;
  requestMode?: string;
  status?: string;
  source?: { type?: string; channelFilter?: string };
  target?: { url?: string; format?: string; enveloped?: boolean | null; signingKeyId?: string; headers?: AblyRuleHeader[] };
}

/** The Control API calls registration makes. `deleteRule` resolves when the rule is gone, also if it already was. */
export interface AblyControlApi {
  listRules(appId: string): Promise<AblyRule[]>;
  createRule(appId: string, body: AblyRuleBody): Promise<AblyRule>;
  deleteRule(appId: string, ruleId: string): Promise<void>;
}

/** What the rule should say. */
export interface AblyRuleSettings {
  targetUrl: string;
  /** A regular expression on channel names; absent or empty: every channel. */
  channelFilter?: string;
  /** The key id part of the API key (`appId.keyId:secret`): Ably signs batch requests with that key's secret. */
  signingKeyId: string;
  headers?: AblyRuleHeader[];
}

export function ablyRuleBody(settings: AblyRuleSettings): AblyRuleBody {
  const target: AblyRuleBody['target'] = { url: settings.targetUrl, format: 'json', enveloped: true, signingKeyId: settings.signingKeyId };
  // An empty list is left out rather than sent: it says nothing, and a stricter API version might refuse it.
  if (settings.headers && settings.headers.length > 0) target.headers = settings.headers.map(({ name, value }) => ({ name, value }));
  return {
    ruleType: 'http',
    requestMode: 'batch',
    status: 'enabled',
    // Ably's dashboard leaves the filter empty for "every channel"; the API is given the same.
    source: { channelFilter: settings.channelFilter ?? '', type: ABLY_RULE_SOURCE_TYPE },
    target,
  };
}

export function isHookhubRule(rule: AblyRule, targetUrl: string): boolean {
  return rule.target?.url === targetUrl && rule.source?.type === ABLY_RULE_SOURCE_TYPE;
}

export interface EnsureAblyRuleResult {
  action: 'created' | 'exists';
  ruleId: string;
  /**
   * How an existing rule differs from the settings (empty when created or identical). It is reported, not changed:
   * a rule someone edited at Ably on purpose should not be overwritten by a deploy. Header values are never named.
   */
  differences: string[];
}

/** Creates the rule unless one with the same target URL and source type exists; running it again changes nothing. */
export async function ensureAblyRule(input: { api: AblyControlApi; appId: string } & AblyRuleSettings): Promise<EnsureAblyRuleResult> {
  const { api, appId, ...settings } = input;
  const body = ablyRuleBody(settings);
  const existing = (await api.listRules(appId)).find((rule) => isHookhubRule(rule, settings.targetUrl));
  if (existing) return { action: 'exists', ruleId: existing.id, differences: ruleDifferences(existing, body) };
  const created = await api.createRule(appId, body);
  return { action: 'created', ruleId: created.id, differences: [] };
}

function ruleDifferences(rule: AblyRule, wanted: AblyRuleBody): string[] {
  const differences: string[] = [];
  const compare = (what: string, actual: unknown, expected: unknown) => {
    if (actual !== expected) differences.push(`${what} is ${JSON.stringify(actual ?? null)} (configured: ${JSON.stringify(expected)})`);
  };
  compare('ruleType', rule.ruleType, wanted.ruleType);
  compare('requestMode', rule.requestMode, wanted.requestMode);
  compare('status', rule.status, wanted.status);
  compare('channelFilter', rule.source?.channelFilter ?? '', wanted.source.channelFilter);
  compare('format', rule.target?.format, wanted.target.format);
  compare('enveloped', rule.target?.enveloped, wanted.target.enveloped);
  compare('signingKeyId', rule.target?.signingKeyId, wanted.target.signingKeyId);
  const headerNames = (headers: AblyRuleHeader[] | undefined) => (headers ?? []).map(({ name }) => name.toLowerCase()).sort().join(',');
  if (headerNames(rule.target?.headers) !== headerNames(wanted.target.headers)) {
    differences.push(`headers are [${headerNames(rule.target?.headers)}] (configured: [${headerNames(wanted.target.headers)}])`);
  }
  return differences;
}

export interface RemoveAblyRuleResult {
  action: 'deleted' | 'absent';
  ruleIds: string[];
}

/**
 * Removes one rule by id (the one a deploy created), or every rule of ours at a target URL (a URL the hub no longer
 * uses). Rules of other URLs or source types are never touched.
 */
export async function removeAblyRule(
  input: { api: AblyControlApi; appId: string } & ({ ruleId: string } | { targetUrl: string }),
): Promise<RemoveAblyRuleResult> {
  const rules = await input.api.listRules(input.appId);
  const doomed = 'ruleId' in input ? rules.filter((rule) => rule.id === input.ruleId) : rules.filter((rule) => isHookhubRule(rule, input.targetUrl));
  for (const rule of doomed) await input.api.deleteRule(input.appId, rule.id);
  return { action: doomed.length > 0 ? 'deleted' : 'absent', ruleIds: doomed.map((rule) => rule.id) };
}

/** The ids inside an Ably API key `appId.keyId:keySecret`. */
export function ablyKeyIdentity(apiKey: string): { appId: string; keyId: string } {
  const match = /^([^.:\s]+)\.([^.:\s]+):\S+$/.exec(apiKey.trim());
  // The key is a secret: the message describes its shape, never its content.
  if (!match) throw new ConfigurationError('the Ably API key is not of the form appId.keyId:keySecret');
  return { appId: match[1]!, keyId: match[2]! };
}

/** `appId.keyId` (the key's public name, safe to print), or undefined when the value is no API key. */
export function ablyKeyName(apiKey: string | undefined): string | undefined {
  try {
    const { appId, keyId } = ablyKeyIdentity(apiKey ?? '');
    return `${appId}.${keyId}`;
  } catch {
    return undefined;
  }
}

/** Where a source's rule points and which secrets registering it needs (read by the caller: env locally, AWS on AWS). */
export interface AblyRegistrationPlan {
  sourceId: string;
  targetUrl: string;
  channelFilter?: string;
  /** The source's API key: its name gives the app id and the signing key id. */
  apiKey: SecretReference;
  /** Absent: registration is not configured, and the rule has to be created by hand. */
  controlToken?: SecretReference;
  /** The single-mode token header, sent by the rule too so that either request mode is accepted. */
  tokenHeader?: { name: string; secret: SecretReference };
}

export function registrationPlan(source: SourceDefinition, publicBaseUrl: string): AblyRegistrationPlan {
  if (source.preset !== 'ably' || !source.secret) throw new ConfigurationError(`source '${source.id}' does not use the ably preset`);
  // Parsing filled in the preset's defaults (source-definition.ts), so the options have the preset's parsed shape.
  const options = source.options as AblyOptions;
  const plan: AblyRegistrationPlan = { sourceId: source.id, targetUrl: hookUrl(publicBaseUrl, source.id), apiKey: source.secret };
  const channelFilter = options.registration?.channelFilter ?? options.channelFilter;
  if (channelFilter !== undefined) plan.channelFilter = channelFilter;
  if (options.registration) plan.controlToken = options.registration.controlToken;
  if (options.singleModeToken) plan.tokenHeader = { name: options.singleModeToken.header, secret: options.singleModeToken.secret };
  return plan;
}

function hookUrl(publicBaseUrl: string, sourceId: string): string {
  let base: URL;
  try {
    base = new URL(publicBaseUrl);
  } catch {
    throw new ConfigurationError(`the public base URL "${publicBaseUrl}" is not a URL such as https://hooks.example.com`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new ConfigurationError(`the public base URL "${publicBaseUrl}" must be http or https`);
  // A base with a path (an API stage, a tunnel prefix) keeps it; only the trailing slash goes.
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}/hooks/${sourceId}`;
}

/** Turns the plan's values into the rule's settings, once the caller has read the secrets. */
export function resolveRuleSettings(input: {
  targetUrl: string;
  channelFilter?: string;
  apiKey: string;
  tokenHeader?: AblyRuleHeader;
}): { appId: string; settings: AblyRuleSettings } {
  const { appId, keyId } = ablyKeyIdentity(input.apiKey);
  const settings: AblyRuleSettings = { targetUrl: input.targetUrl, signingKeyId: keyId };
  if (input.channelFilter !== undefined) settings.channelFilter = input.channelFilter;
  if (input.tokenHeader) settings.headers = [input.tokenHeader];
  return { appId, settings };
}

/** How to create the rule in Ably's dashboard, for when no control token is configured. One instruction a line. */
export function manualRuleInstructions(input: { targetUrl: string; channelFilter?: string; keyName?: string; tokenHeaderName?: string }): string[] {
  const lines = [
    `In the Ably dashboard, open the app${input.keyName ? ` ${input.keyName.split('.')[0]}` : ''} → Integrations → New integration rule → Webhook, and set:`,
    `  URL: ${input.targetUrl}`,
    '  Request mode: Batch',
    `  Source: Message; channel filter: ${input.channelFilter ? input.channelFilter : '(empty: every channel)'}`,
    '  Encoding: JSON; Enveloped: on',
    `  Sign with key: ${input.keyName ?? "the source's API key"}`,
  ];
  if (input.tokenHeaderName) lines.push(`  Headers: ${input.tokenHeaderName} = the value of the source's singleModeToken secret`);
  return lines;
}
