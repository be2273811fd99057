/**
 * The @connections client both WebSocket-pushing Lambdas use. The SDK's default HTTP handler has no connection or
 * request timeout, so one push that never gets an answer would hold a worker batch (and every event and subscriber
 * in it) until the Lambda times out. A PostToConnection normally answers in milliseconds; these bounds only cut off
 * one that is stuck. The options go to the SDK's own NodeHttpHandler, so no HTTP package is imported here.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';

const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 3_000;
/** One retry for a throttle or a lost request; more would let one stuck connection cost a batch many timeouts. */
const MAX_ATTEMPTS = 2;

export function createManagementApiClient(endpoint: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // Without it the handler only logs a warning when requestTimeout passes and goes on waiting.
      throwOnRequestTimeout: true,
    },
  });
}
