import { MAX_QUEUE_DELAY_SECONDS } from '../../core/outbound/attempt-delivery';

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

/** The delivery worker's timeout: a batch of 10 tries runs in parallel, each at most the 15 s request timeout. */
export const DELIVERY_WORKER_TIMEOUT_SECONDS = 60;

export const DELIVERY_QUEUE = {
  logicalName: 'DeliveryQueue',
  visibilityTimeoutSeconds: DELIVERY_WORKER_TIMEOUT_SECONDS * 6,
  /**
   * Receives of one task before the DLQ. Each retry is a new message, so this counts crashes of one try, plus one
   * receive per 12 h of a long wait (a delay past SQS's 15 minutes is waited out with ChangeMessageVisibility).
   */
  maxReceiveCount: 6,
  batchSize: 10,
  /** SQS's longest: the default schedule spans about 33 h, and a wait must not outlive its message. */
  retentionDays: 14,
  maxMessageBytes: 1024 * 1024,
  deadLetterRetentionDays: 14,
  /** SQS's largest DelaySeconds: the one number the core's retry waits (attempt-delivery.ts) also use. */
  maxDelaySeconds: MAX_QUEUE_DELAY_SECONDS,
} as const;
