/**
 * esbuild settings for the Lambda bundles, shared by the CDK functions and `npm run bench` (which measures the
 * bundles the stack would deploy). The AWS SDK is bundled rather than taken from the runtime so that the version
 * that ran in the tests is the one that runs in Lambda; see docs/decisions.md.
 */
import { join } from 'node:path';

export const PROJECT_ROOT = join(__dirname, '..');
export const LAMBDA_NODE_TARGET = 'node22';

export const HANDLER_ENTRIES = {
  httpIngest: 'lambdas/handlers/http-ingest.ts',
  sqsProcessInbound: 'lambdas/handlers/sqs-process-inbound.ts',
  httpReadApi: 'lambdas/handlers/http-read-api.ts',
  wsConnect: 'lambdas/handlers/ws-connect.ts',
  wsDisconnect: 'lambdas/handlers/ws-disconnect.ts',
  wsDefault: 'lambdas/handlers/ws-default.ts',
} as const;

export type HandlerName = keyof typeof HANDLER_ENTRIES;

export const BUNDLE_SETTINGS = {
  minify: true,
  sourceMap: true,
  target: LAMBDA_NODE_TARGET,
  /** Bundle everything, the AWS SDK included. */
  externalModules: [] as string[],
};
