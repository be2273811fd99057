/** SecretProvider for the local runtime: secrets from environment variables, several separated by spaces or commas. */
import type { SecretProvider } from '../../core/ports';

export class EnvSecretProvider implements SecretProvider {
  constructor(private readonly environment: NodeJS.ProcessEnv = process.env) {}

  async secretsFor(reference: { env?: string }): Promise<string[]> {
    const value = reference.env ? this.environment[reference.env] : undefined;
    return parseSecretList(value);
  }
}

export function parseSecretList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((secret) => secret.length > 0);
}
