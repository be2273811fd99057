import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One document client per process (module scope in handlers) so warm invocations reuse connections. The endpoint
 * comes from the SDK's standard AWS_ENDPOINT_URL_DYNAMODB variable, which the local runtime sets.
 */
export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
