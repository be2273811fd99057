/**
 * The inbound queue's settings as plain data, read by the CDK pipeline construct and by the local runtime so both
 * behave alike. See docs/decisions.md for the numbers.
 */
export const WORKER_TIMEOUT_SECONDS = 30;

export const INBOUND_QUEUE = {
  logicalName: 'InboundQueue',
  /** AWS's guidance for Lambda event sources: at least 6× the function timeout, so throttled retries fit in. */
  visibilityTimeoutSeconds: WORKER_TIMEOUT_SECONDS * 6,
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: 5,
  /** Records per worker invocation. */
  batchSize: 10,
  retentionDays: 4,
  /** SQS's largest message and SendMessageBatch request (1 MiB since August 2025; 256 KiB before). */
  maxMessageBytes: 1024 * 1024,
  deadLetterRetentionDays: 14,
} as const;
