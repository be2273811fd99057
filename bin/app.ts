#!/usr/bin/env node
/** CDK app: builds the hookhub stack from hookhub.config.json (HOOKHUB_CONFIG to use another file). Nothing else. */
import { App } from 'aws-cdk-lib';
import { HookhubStack } from '../lib/hookhub-stack';
import { loadConfigFile } from '../lib/config-file';

const app = new App();
new HookhubStack(app, process.env.HOOKHUB_STACK_NAME ?? 'Hookhub', {
  config: loadConfigFile(),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'hookhub: verified inbound webhooks, durable pipeline, realtime fan-out',
});
