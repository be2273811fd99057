/**
 * esbuild settings for the Lambda bundles, shared by the CDK functions and `npm run bench` (which measures the
 * bundles the stack would deploy). The AWS SDK is bundled rather than taken from the runtime so that the version
 * that ran in the tests is the one that runs in Lambda; see docs/decisions.md.
 */
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
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
  httpManagementApi: 'lambdas/handlers/http-management-api.ts',
  sqsDeliver: 'lambdas/handlers/sqs-deliver.ts',
  httpAblyApi: 'lambdas/handlers/http-ably-api.ts',
  scheduledAblySync: 'lambdas/handlers/scheduled-ably-sync.ts',
  customResourceAblyRule: 'lambdas/handlers/custom-resource-ably-rule.ts',
} as const;

export type HandlerName = keyof typeof HANDLER_ENTRIES;

/** The NodejsFunction bundling options of every hookhub function. */
export const BUNDLE_SETTINGS = {
  format: OutputFormat.CJS,
  minify: true,
  sourceMap: true,
  target: LAMBDA_NODE_TARGET,
  /** Bundle everything, the AWS SDK included. */
  externalModules: [] as string[],
  /**
   * Prefer a package's ES module build (the AWS SDK's `dist-es`) over its CommonJS one: esbuild can only drop the
   * unused parts of ES modules. The output is still CommonJS.
   */
  mainFields: ['module', 'main'],
} satisfies BundlingOptions;

/**
 * The esbuild build options equivalent to BUNDLE_SETTINGS, as NodejsFunction passes them to esbuild's CLI, for
 * tools that bundle without synthesizing (the bench). test/infra/bundle-settings.test.ts checks that both produce
 * the same file. A setting added above must be mapped here too, or this stops compiling.
 */
export function esbuildOptions(entry: string, outfile: string, settings: typeof BUNDLE_SETTINGS = BUNDLE_SETTINGS): BuildOptions {
  const { format, minify, sourceMap, target, externalModules, mainFields, ...unmapped } = settings;
  void (unmapped satisfies Record<string, never>);
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format,
    target,
    minify,
    sourcemap: sourceMap,
    external: externalModules,
    mainFields,
    logLevel: 'error',
  };
}
