#!/usr/bin/env -S npx tsx
/**
 * `npm run register -- <source>`: ensures the provider's webhook rule points at this hub (today: Ably's integration
 * rule, through its Control API); without an argument, lists the sources it can register. Reads the config like the
 * other commands (HOOKHUB_CONFIG), the secrets from the sources' env variables, and HOOKHUB_PUBLIC_URL: the base
 * URL the provider reaches (a tunnel, say), by default the local runtime's own address. Running it again changes
 * nothing. Without a control token it prints how to create the rule by hand and exits 0.
 */
import { loadConfigFile } from '../lib/config-file';
import { localHttpUrl } from '../lib/local/local-settings';
import { findSource } from '../lambdas/core/sources/source-definition';
import { optionalBaseUrl } from '../lambdas/config';
import { EnvSecretProvider } from '../lambdas/adapters/secrets/env-secret-provider';
import { AblyControlClient } from '../lambdas/adapters/ably/ably-control-client';
import { ablyKeyName, ensureAblyRule, manualRuleInstructions, registrationPlan, resolveRuleSettings } from '../lambdas/providers/ably/rule-registration';
import type { AblyOptions } from '../lambdas/providers/ably/ably-options';

async function main(): Promise<void> {
  const [sourceId] = process.argv.slice(2);
  const config = loadConfigFile();
  const registrable = config.sources.filter((source) => source.preset === 'ably');
  if (!sourceId) {
    if (registrable.length === 0) return console.log('No source here can be registered (registration supports the "ably" preset).');
    console.log('Sources that can be registered (npm run register -- <source>):');
    for (const source of registrable) {
      const token = (source.options as AblyOptions).registration ? 'control token configured' : 'no control token: prints the manual steps';
      console.log(`  ${source.id}   (preset ${source.preset}; ${token})`);
    }
    return;
  }
  const source = findSource(config, sourceId);
  if (!source) throw new Error(`no source '${sourceId}' in the config`);
  if (source.preset !== 'ably') throw new Error(`source '${sourceId}' has nothing to register (only "ably" preset sources have a rule to ensure)`);

  const publicUrl = process.env.HOOKHUB_PUBLIC_URL || localHttpUrl();
  const plan = registrationPlan(source, publicUrl);
  const secrets = new EnvSecretProvider();
  const [apiKey] = await secrets.secretsFor(plan.apiKey);
  const [token] = plan.controlToken ? await secrets.secretsFor(plan.controlToken) : [];
  if (/^https?:\/\/(127\.|localhost|\[::1\])/.test(plan.targetUrl)) {
    console.log(`note: ${plan.targetUrl} is a loopback address Ably cannot reach; set HOOKHUB_PUBLIC_URL to a public URL (a tunnel) for real use`);
  }

  if (!token) {
    const why = plan.controlToken ? `its env variable ${plan.controlToken.env ?? '(none)'} is empty` : `source '${sourceId}' has no options.registration.controlToken`;
    console.log(`No Ably control token (${why}): skipping. To create the rule by hand:`);
    console.log(manualRuleInstructions({ targetUrl: plan.targetUrl, channelFilter: plan.channelFilter, keyName: ablyKeyName(apiKey), tokenHeaderName: plan.tokenHeader?.name }).join('\n'));
    return;
  }
  if (!apiKey) throw new Error(`source '${sourceId}' has no API key in its env variable ${plan.apiKey.env ?? '(none)'}`);
  const [tokenValue] = plan.tokenHeader ? await secrets.secretsFor(plan.tokenHeader.secret) : [];
  if (plan.tokenHeader && !tokenValue) throw new Error(`the single-mode token's env variable ${plan.tokenHeader.secret.env ?? '(none)'} is empty`);

  const { appId, settings } = resolveRuleSettings({
    targetUrl: plan.targetUrl,
    channelFilter: plan.channelFilter,
    apiKey,
    tokenHeader: plan.tokenHeader && tokenValue ? { name: plan.tokenHeader.name, value: tokenValue } : undefined,
  });
  const api = new AblyControlClient({ token, baseUrl: optionalBaseUrl('HOOKHUB_ABLY_CONTROL_URL') });
  const result = await ensureAblyRule({ api, appId, ...settings });
  console.log(`${result.action === 'created' ? 'created' : 'exists'}: Ably rule ${result.ruleId} in app ${appId} → ${plan.targetUrl}`);
  for (const difference of result.differences) console.log(`  differs (left as is; delete the rule at Ably and run again to re-create it): ${difference}`);
}

main().catch((error: unknown) => {
  console.error(`register: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
