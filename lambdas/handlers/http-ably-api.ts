// PLACEHOLDER (replaced by the message-log work): GET /api/ably/messages, GET /api/ably/stats, POST /api/sync/ably, GET /api/sync/runs.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export const handler = async (): Promise<APIGatewayProxyStructuredResultV2> => ({ statusCode: 501, body: '{"error":"not_implemented"}' });
