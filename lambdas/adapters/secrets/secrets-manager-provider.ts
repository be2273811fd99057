/**
 * SecretProvider over AWS Secrets Manager. Values are cached for a few minutes: verification sits on the ingest hot
 * path, and a rotation (add the new secret next to the old one) is picked up after the cache expires.
 * A secret value may be a plain string, a JSON array of strings, or `{"secrets": [...]}`.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretProvider } from '../../core/ports';
import { parseSecretList } from './env-secret-provider';

export class SecretsManagerSecretProvider implements SecretProvider {
  private readonly cache = new Map<string, { secrets: string[]; expiresAt: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly cacheMilliseconds = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async secretsFor(reference: { secretName?: string }): Promise<string[]> {
    if (!reference.secretName) return [];
    const cached = this.cache.get(reference.secretName);
    if (cached && cached.expiresAt > this.now()) return cached.secrets;
    const result = await this.client.send(new GetSecretValueCommand({ SecretId: reference.secretName }));
    const secrets = parseSecretValue(result.SecretString ?? '');
    this.cache.set(reference.secretName, { secrets, expiresAt: this.now() + this.cacheMilliseconds });
    return secrets;
  }
}

export function parseSecretValue(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      const list = Array.isArray(parsed) ? parsed : (parsed as { secrets?: unknown }).secrets;
      if (Array.isArray(list)) return list.filter((entry): entry is string => typeof entry === 'string' && entry.length > 0);
    } catch {
      // Not JSON after all: treat it as a plain secret list.
    }
  }
  return parseSecretList(trimmed);
}
