/**
 * AWS list prices used by the cost section of `npm run bench`: us-east-1, on-demand, no free tier, first pricing
 * tier of each service. Checked on PRICES_CHECKED against the public pricing pages as summarised by 2025–2026
 * sources (API Gateway, Lambda, SQS and DynamoDB pricing pages); re-check before quoting them elsewhere.
 */
export const PRICE_REGION = 'us-east-1';
export const PRICES_CHECKED = '2026-11-24';

export const PRICES = {
  /** HTTP API, per request (first 300 million a month). */
  httpApiRequest: 1.0 / 1e6,
  /** WebSocket API, per message sent or received, metered in 32 KB increments (first billion a month). */
  webSocketMessage: 1.0 / 1e6,
  webSocketMessageBytes: 32 * 1024,
  /** WebSocket API, per connection-minute. */
  webSocketConnectionMinute: 0.25 / 1e6,
  /** Lambda on arm64: per request, and per GB-second (first 7.5 billion GB-s a month). */
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  /** SQS standard queue, per request; each 64 KB chunk of a request's payload is billed as one request. */
  sqsRequest: 0.4 / 1e6,
  sqsChunkBytes: 64 * 1024,
  /** DynamoDB on-demand (standard table class): per write request unit, per read request unit. */
  dynamoDbWriteUnit: 0.625 / 1e6,
  dynamoDbReadUnit: 0.125 / 1e6,
} as const;
