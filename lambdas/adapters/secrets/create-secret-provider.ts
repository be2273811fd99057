import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretProvider } from '../../core/ports';
import type { SecretsBackend } from '../../config';
import { EnvSecretProvider } from './env-secret-provider';
import { SecretsManagerSecretProvider } from './secrets-manager-provider';

export function createSecretProvider(backend: SecretsBackend): SecretProvider {
  return backend === 'env' ? new EnvSecretProvider() : new SecretsManagerSecretProvider(new SecretsManagerClient({}));
}
