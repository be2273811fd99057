/** ConnectionMessenger over the API Gateway management API (@connections); 410 Gone means the socket is gone. */
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionMessenger, PushResult } from '../../core/ports';

export class ApiGatewayConnectionMessenger implements ConnectionMessenger {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async push(connectionId: string, data: string): Promise<PushResult> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }));
      return 'sent';
    } catch (error) {
      if (error instanceof GoneException || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) {
        return 'gone';
      }
      throw error;
    }
  }
}
