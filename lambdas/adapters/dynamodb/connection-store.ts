/** ConnectionStore over the Connections table: a `connection` item plus one `channel#<pattern>` item per subscription. */
import { BatchWriteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, ConnectionStore } from '../../core/ports';
import { CONNECTIONS_TABLE } from './table-definitions';

const CONNECTION_ENTRY = 'connection';
const channelEntry = (pattern: string) => `channel#${pattern}`;

export class DynamoDbConnectionStore implements ConnectionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async save(connection: ConnectionRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { connectionId: connection.connectionId, entry: CONNECTION_ENTRY, connectedAt: connection.connectedAt, expiresAt: connection.expiresAt },
      }),
    );
    await this.addChannels(connection.connectionId, connection.channels, connection.expiresAt);
  }

  async addChannels(connectionId: string, patterns: readonly string[], expiresAt: number): Promise<void> {
    await this.batchWrite(
      patterns.map((pattern) => ({
        PutRequest: { Item: { connectionId, entry: channelEntry(pattern), channel: pattern, expiresAt } },
      })),
    );
  }

  async removeChannels(connectionId: string, patterns: readonly string[]): Promise<void> {
    await this.batchWrite(patterns.map((pattern) => ({ DeleteRequest: { Key: { connectionId, entry: channelEntry(pattern) } } })));
  }

  async remove(connectionId: string): Promise<void> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'connectionId = :id',
        ExpressionAttributeValues: { ':id': connectionId },
        ProjectionExpression: 'connectionId, entry',
      }),
    );
    await this.batchWrite((result.Items ?? []).map((item) => ({ DeleteRequest: { Key: { connectionId, entry: item.entry } } })));
  }

  async findSubscribers(patterns: readonly string[]): Promise<string[]> {
    const [byChannel] = CONNECTIONS_TABLE.indexes;
    const ids = new Set<string>();
    await Promise.all(
      patterns.map(async (pattern) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: byChannel.indexName,
              KeyConditionExpression: 'channel = :channel',
              ExpressionAttributeValues: { ':channel': pattern },
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of page.Items ?? []) ids.add(String(item.connectionId));
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return [...ids];
  }

  private async batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    for (let start = 0; start < requests.length; start += 25) {
      let pending: Record<string, unknown>[] | undefined = requests.slice(start, start + 25);
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round === 8) throw new Error('DynamoDB kept returning unprocessed items');
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
        const result = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending as never } }));
        pending = result.UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined;
      }
    }
  }
}
