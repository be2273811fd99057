#!/usr/bin/env node
/** CDK app: builds the hookhub stack from hookhub.config.json (HOOKHUB_CONFIG to use another file). Nothing else. */
import { App } from 'aws-cdk-lib';
import { HookhubStack } from '../lib/hookhub-stack';
import { loadConfigFile } from '../lib/config-file';

/** `off` for accounts whose Lambda quota cannot spare a reservation (new accounts may start at 10). */
function reservedConcurrency(name: string): number | false | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'off') return false;
  if (!/^[1-9][0-9]*$/.test(raw)) throw new Error(`${name} must be a positive integer or off`);
  return Number(raw);
}

const app = new App();
new HookhubStack(app, process.env.HOOKHUB_STACK_NAME ?? 'Hookhub', {
  config: loadConfigFile(),
  limits: { ingestReservedConcurrency: reservedConcurrency('HOOKHUB_INGEST_RESERVED_CONCURRENCY') },
  outbound: { workerReservedConcurrency: reservedConcurrency('HOOKHUB_DELIVERY_RESERVED_CONCURRENCY') },
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'hookhub: verified inbound webhooks, durable pipeline, realtime fan-out, signed outbound webhooks',
});
