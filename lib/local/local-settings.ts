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

export const DEFAULT_HTTP_PORT = 3000;
export const DEFAULT_WS_PORT = 3001;
export const DEFAULT_DATA_DIR = '.hookhub';

export function dataDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  return resolve(environment.HOOKHUB_DATA_DIR || DEFAULT_DATA_DIR);
}

export function portFromEnv(name: string, fallback: number, environment: NodeJS.ProcessEnv = process.env): number {
  const raw = environment[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) {
    throw new ConfigurationError(`${name} is "${raw}"; it must be a port number from 0 to 65535 (0 = any free port)`);
  }
  return port;
}

/** Where `npm run send` posts: HOOKHUB_URL, else the runtime's default address on $PORT. */
export function localHttpUrl(environment: NodeJS.ProcessEnv = process.env): string {
  return withoutTrailingSlash(environment.HOOKHUB_URL || `http://127.0.0.1:${portFromEnv('PORT', DEFAULT_HTTP_PORT, environment)}`);
}

/** Where `npm run listen` connects: HOOKHUB_WS_URL, else the runtime's default address on $WS_PORT. */
export function localWebSocketUrl(environment: NodeJS.ProcessEnv = process.env): string {
  return withoutTrailingSlash(environment.HOOKHUB_WS_URL || `ws://127.0.0.1:${portFromEnv('WS_PORT', DEFAULT_WS_PORT, environment)}`);
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** HOOKHUB_ADMIN_KEY, or a random key generated once and kept in the data dir so it survives restarts. */
export function localAdminKey(dataDir: string): string {
  const existing = readLocalAdminKey(dataDir);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  const key = `hk_dev_${randomBytes(18).toString('base64url')}`;
  writeFileSync(adminKeyPath(dataDir), `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * The admin key a running runtime uses, without creating one: a helper that generated its own key would only be
 * refused by the runtime.
 */
export function readLocalAdminKey(dataDir: string): string | undefined {
  if (process.env.HOOKHUB_ADMIN_KEY) return process.env.HOOKHUB_ADMIN_KEY;
  const path = adminKeyPath(dataDir);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

export function adminKeyPath(dataDir: string): string {
  return join(dataDir, 'admin-key');
}

/** Gives the demo source its documented development secret unless one is set. */
export function applyDevelopmentDefaults(): void {
  process.env.HOOKHUB_DEMO_SECRET ??= DEV_DEMO_SECRET;
}
