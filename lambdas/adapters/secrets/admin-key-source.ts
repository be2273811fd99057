/** Resolves the admin key once (env value or Secrets Manager) and keeps only its digest. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { digestAdminKey, MIN_ADMIN_KEY_LENGTH, type AdminKeyDigest } from '../../core/auth/admin-key';
import { ConfigurationError } from '../../core/errors';
import type { AdminKeyLocation } from '../../config';

export function adminKeyDigestLoader(location: AdminKeyLocation, client?: SecretsManagerClient): () => Promise<AdminKeyDigest> {
  let digest: Promise<AdminKeyDigest> | undefined;
  return () => {
    digest ??= resolve(location, client).catch((error: unknown) => {
      digest = undefined; // a transient Secrets Manager error must not poison every later request
      throw error;
    });
    return digest;
  };
}

async function resolve(location: AdminKeyLocation, client = new SecretsManagerClient({})): Promise<AdminKeyDigest> {
  const key =
    'value' in location
      ? location.value
      : ((await client.send(new GetSecretValueCommand({ SecretId: location.secretId }))).SecretString ?? '').trim();
  if (key.length < MIN_ADMIN_KEY_LENGTH) {
    throw new ConfigurationError(`the admin key must be at least ${MIN_ADMIN_KEY_LENGTH} characters`);
  }
  return digestAdminKey(key);
}
