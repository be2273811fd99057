/**
 * A queue whose dead-letter queue lets only it redrive: the DLQ's redrive-allow policy names the queue while the
 * queue's redrive policy names the DLQ, and referencing both by attribute is a cycle CloudFormation cannot order.
 * So the queue gets a physical name, `<stack name>-<suffix>`, and the DLQ refers to its ARN by that name.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** SQS queue names are at most 80 characters. */
const MAX_QUEUE_NAME_LENGTH = 80;

export interface StackQueueName {
  queueName: string;
  queueArn: string;
}

/** `<stack name>-<suffix>` and its ARN; refused at synth when the stack name makes it too long for SQS. */
export function stackQueueName(scope: Construct, suffix: string): StackQueueName {
  const stack = Stack.of(scope);
  const queueName = `${stack.stackName}-${suffix}`;
  if (queueName.length > MAX_QUEUE_NAME_LENGTH) {
    throw new Error(
      `stack name '${stack.stackName}' is too long: the ${suffix} queue is named '${queueName}' and SQS allows ${MAX_QUEUE_NAME_LENGTH} characters (use a stack name of at most ${MAX_QUEUE_NAME_LENGTH - suffix.length - 1})`,
    );
  }
  return { queueName, queueArn: stack.formatArn({ service: 'sqs', resource: queueName }) };
}

/** A queue's settings as plain data (lambdas/adapters/sqs/queue-definitions.ts). */
export interface QueueSettings {
  logicalName: string;
  visibilityTimeoutSeconds: number;
  retentionDays: number;
  maxMessageBytes: number;
  maxReceiveCount: number;
  deadLetterRetentionDays: number;
}

/**
 * The queue `<stack name>-<suffix>` and its dead-letter queue, which only it may redrive into; both encrypted and
 * TLS-only, and the DLQ takes the same message size, so a redriven message fits back and a parked one fits there.
 */
export function queueWithDeadLetter(scope: Construct, suffix: string, settings: QueueSettings): { queue: Queue; deadLetterQueue: Queue } {
  const { queueName, queueArn } = stackQueueName(scope, suffix);
  const deadLetterQueue = new Queue(scope, 'DeadLetterQueue', {
    // A message keeps its age when it moves to the DLQ: it expires this long after it was first queued.
    retentionPeriod: Duration.days(settings.deadLetterRetentionDays),
    maxMessageSizeBytes: settings.maxMessageBytes,
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    redriveAllowPolicy: {
      redrivePermission: RedrivePermission.BY_QUEUE,
      sourceQueues: [Queue.fromQueueArn(scope, `${settings.logicalName}ByName`, queueArn)],
    },
  });
  const queue = new Queue(scope, 'Queue', {
    queueName,
    visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
    retentionPeriod: Duration.days(settings.retentionDays),
    maxMessageSizeBytes: settings.maxMessageBytes,
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
  });
  return { queue, deadLetterQueue };
}
