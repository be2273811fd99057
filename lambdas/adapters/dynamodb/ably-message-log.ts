// PLACEHOLDER (replaced by the message-log work): AblyMessageLog over DynamoDB.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AblyChannelCount, AblyMessageLog, AblyMessagePage, AblyMessageQuery, LoggedAblyMessage } from '../../providers/ably/ably-ports';

export class DynamoDbAblyMessageLog implements AblyMessageLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { messages: string; state: string },
  ) {}
  async record(message: LoggedAblyMessage, expiresAt: number): Promise<'stored' | 'exists'> {
    void [this.client, this.tables, message, expiresAt];
    throw new Error('not built yet');
  }
  async list(query: AblyMessageQuery): Promise<AblyMessagePage> {
    void query;
    throw new Error('not built yet');
  }
  async channelCounts(source: string): Promise<AblyChannelCount[]> {
    void source;
    throw new Error('not built yet');
  }
}
