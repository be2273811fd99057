/**
 * Why the local runtime could not start, as lines a person can act on: one line per problem, never a stack trace.
 * A stack helps whoever debugs hookhub itself, not whoever runs it; `bin/local.ts` prints it only at DEBUG level.
 */
import { ConfigurationError } from '../../lambdas/core/errors';
import { DataDirectoryUnavailableError } from './data-directory-lock';

/** The settings were checked and refused; each problem is already one line naming its variable. */
export class StartupRefusedError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'StartupRefusedError';
  }
}

/** Requested ports by variable name, so a port conflict can name the variable to change. */
export type RequestedPorts = Readonly<Record<string, number>>;

export function startupFailureLines(error: unknown, requestedPorts: RequestedPorts = {}): string[] {
  if (error instanceof StartupRefusedError) return [...error.problems];
  if (error instanceof DataDirectoryUnavailableError || error instanceof ConfigurationError) return [oneLine(error.message)];
  const errno = error as NodeJS.ErrnoException & { port?: number };
  if (errno?.code === 'EADDRINUSE' && typeof errno.port === 'number') {
    const variable = Object.entries(requestedPorts).find(([, port]) => port === errno.port)?.[0];
    const hint = variable ? `set ${variable} to another port (0 picks a free one)` : 'retry';
    return [`port ${errno.port} is already in use; stop what listens there, or ${hint}`];
  }
  return [oneLine(error instanceof Error ? error.message : String(error))];
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('; ');
}
