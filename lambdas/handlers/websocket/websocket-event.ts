/**
 * The fields of an API Gateway WebSocket route event that hookhub reads. `@types/aws-lambda` omits
 * queryStringParameters on its WebSocket type, although API Gateway sends them on $connect.
 */
export interface WebSocketRouteEvent {
  requestContext: {
    routeKey: string;
    eventType: 'CONNECT' | 'DISCONNECT' | 'MESSAGE';
    connectionId: string;
    connectedAt: number;
    requestId: string;
    domainName?: string;
    stage?: string;
  };
  queryStringParameters?: Record<string, string | undefined>;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded: boolean;
}
