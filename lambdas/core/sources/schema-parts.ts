/**
 * Schema pieces shared by the sources config and the provider presets' options (lambdas/providers/): a header name
 * and a reference to where a secret lives. Built on call, like the schemas that use them (source-definition.ts).
 */
import * as z from 'zod/mini';

/** An HTTP header name, lowercased (header maps are lowercase). */
export function headerNameSchema() {
  return z.pipe(
    z.string().check(z.regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')),
    z.transform((name: string) => name.toLowerCase()),
  );
}

/**
 * Where a secret lives. Locally: an environment variable (several secrets separated by spaces or commas, for
 * rotation). On AWS: a Secrets Manager secret (a plain string, a JSON array of strings, or `{"secrets": [...]}`).
 */
export function secretReferenceSchema() {
  return z
    .object({
      env: z.optional(z.string().check(z.regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name'))),
      secretName: z.optional(z.string().check(z.minLength(1))),
    })
    .check(
      z.refine((reference) => reference.env !== undefined || reference.secretName !== undefined, {
        message: 'name an env variable and/or a secretName',
      }),
    );
}

export type SecretReference = z.infer<ReturnType<typeof secretReferenceSchema>>;
