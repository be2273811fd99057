/**
 * What the worker logs when one delivery of a queued event fails. Operators need the event id, which attempt this
 * was and whether SQS will try again; they must never get the payload or the request headers, which can hold
 * personal data or credentials. decodeQueuedEvent already words its errors without quoting the input; a stray
 * SyntaxError (JSON.parse quotes what it could not read) keeps only its name.
 */

/** A type alias, not an interface, so it fits the logger's attribute record. */
export type FailedAttemptLog = {
  /** Absent when the queued message could not even be read as an event. */
  eventId?: string;
  messageId: string;
  receiveCount: number;
  /** True when this was the last receive before SQS moves the message to the dead-letter queue. */
  finalAttempt: boolean;
  error: { name: string; message: string };
};

const MESSAGE_LIMIT = 500;

export function failedAttempt(
  error: unknown,
  attempt: { eventId?: string; messageId: string; receiveCount: number; maxReceiveCount: number },
): FailedAttemptLog {
  const { maxReceiveCount, ...identity } = attempt;
  return { ...identity, finalAttempt: attempt.receiveCount >= maxReceiveCount, error: describe(error) };
}

function describe(error: unknown): { name: string; message: string } {
  if (error instanceof SyntaxError) return { name: 'SyntaxError', message: 'JSON that could not be parsed (message withheld: it quotes the input)' };
  if (error instanceof Error) return { name: error.name, message: error.message.slice(0, MESSAGE_LIMIT) };
  return { name: 'NonError', message: 'a value that is not an Error was thrown' };
}
