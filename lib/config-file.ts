/** Reads and validates hookhub.config.json (or the file HOOKHUB_CONFIG names): used by the CDK app and the local runtime. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseHookhubConfig, type HookhubConfig } from '../lambdas/core/sources/source-definition';
import { ConfigurationError } from '../lambdas/core/errors';

export function loadConfigFile(path = process.env.HOOKHUB_CONFIG ?? 'hookhub.config.json'): HookhubConfig {
  const absolute = resolve(path);
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(absolute, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`cannot read config ${absolute}: ${(error as Error).message}`, { cause: error });
  }
  return parseHookhubConfig(document);
}
