/**
 * A queue whose dead-letter queue lets only it redrive: the DLQ's redrive-allow policy names the queue while the
 * queue's redrive policy names the DLQ, and referencing both by attribute is a cycle CloudFormation cannot order.
 * So the queue gets a physical name, `<stack name>-<suffix>`, and the DLQ refers to its ARN by that name.
 */
import { Stack } from 'aws-cdk-lib';
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
