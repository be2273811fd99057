/**
 * Settings of the local runtime and its helper commands, from the environment with defaults that work on a fresh
 * checkout. The defaults are for development only and are printed, never hidden.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigurationError } from '../../lambdas/core/errors';

/** Development-only Standard Webhooks secret of the demo source (base64 of "hookhub-local-development-only"). */
export const DEV_DEMO_SECRET = 'whsec_aG9va2h1Yi1sb2NhbC1kZXZlbG9wbWVudC1vbmx5';

export function dataDirectory(): string {
  return resolve(process.env.HOOKHUB_DATA_DIR ?? '.hookhub');
}

export function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigurationError(`${name} must be a port number (0 = any free port)`);
  return port;
}

/** HOOKHUB_ADMIN_KEY, or a random key generated once and kept in the data dir so it survives restarts. */
export function localAdminKey(dataDir: string): string {
  if (process.env.HOOKHUB_ADMIN_KEY) return process.env.HOOKHUB_ADMIN_KEY;
  const path = join(dataDir, 'admin-key');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = `hk_dev_${randomBytes(18).toString('base64url')}`;
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}

/** Gives the demo source its documented development secret unless one is set. */
export function applyDevelopmentDefaults(): void {
  process.env.HOOKHUB_DEMO_SECRET ??= DEV_DEMO_SECRET;
}
