/**
 * ConnectionStore over the Connections table: a `connection` item plus one `channel#<pattern>` item per subscription
 * (the byChannel index fan-out reads). The connection item also holds the set of its patterns, `channels`: the one
 * record the per-connection cap is checked against. A subscribe changes that set with a single conditional update
 * on its size, so concurrent subscribes on one connection cannot both pass the cap (DynamoDB Local stand-ins have
 * no transactions; a conditional write on one item works everywhere).
 */
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { AddChannelsOutcome, ConnectionRecord, ConnectionStore } from '../../core/ports';
import { CONNECTIONS_TABLE } from './table-definitions';

const CONNECTION_ENTRY = 'connection';
const channelEntry = (pattern: string) => `channel#${pattern}`;
/** Rounds of "count, then write if the count still holds" before a subscribe gives up under contention. */
const MAX_SUBSCRIBE_ROUNDS = 8;

export class DynamoDbConnectionStore implements ConnectionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async save(connection: ConnectionRecord): Promise<void> {
    const channels = connection.channels.length > 0 ? { channels: new Set(connection.channels) } : {};
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { connectionId: connection.connectionId, entry: CONNECTION_ENTRY, connectedAt: connection.connectedAt, expiresAt: connection.expiresAt, ...channels },
      }),
    );
    await this.putChannelItems(connection.connectionId, connection.channels, connection.expiresAt);
  }

  async addChannels(connectionId: string, patterns: readonly string[], options: { expiresAt: number; maxChannels: number }): Promise<AddChannelsOutcome> {
    for (let round = 1; ; round++) {
      const current = await this.subscribedPatterns(connectionId);
      const fresh = [...new Set(patterns)].filter((pattern) => !current.has(pattern));
      if (current.size + fresh.length > options.maxChannels) return { added: false, subscribed: current.size, wouldAdd: fresh.length };
      if (fresh.length > 0) {
        try {
          await this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { connectionId, entry: CONNECTION_ENTRY },
              UpdateExpression: 'ADD channels :fresh',
              // The set must still be the one counted above; attribute_exists keeps the update from creating a
              // connection item (without a TTL) for a connection that is not stored.
              ConditionExpression: current.size === 0 ? 'attribute_exists(entry) AND attribute_not_exists(channels)' : 'size(channels) = :counted',
              ExpressionAttributeValues: { ':fresh': new Set(fresh), ...(current.size === 0 ? {} : { ':counted': current.size }) },
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException) || round === MAX_SUBSCRIBE_ROUNDS) throw error;
          continue; // another command on this connection changed its set first: count again
        }
      }
      // Every requested pattern, not only the fresh ones: a resubscribe repairs a subscribe cut short before this.
      await this.putChannelItems(connectionId, patterns, options.expiresAt);
      return { added: true, subscribed: current.size + fresh.length };
    }
  }

  async removeChannels(connectionId: string, patterns: readonly string[]): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { connectionId, entry: CONNECTION_ENTRY },
          UpdateExpression: 'DELETE channels :gone',
          ConditionExpression: 'attribute_exists(entry)',
          ExpressionAttributeValues: { ':gone': new Set(patterns) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error; // not stored: only its channel items remain
    }
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

  /** The patterns the connection item records; throws if the connection is not stored (it disconnected or expired). */
  private async subscribedPatterns(connectionId: string): Promise<Set<string>> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { connectionId, entry: CONNECTION_ENTRY }, ConsistentRead: true, ProjectionExpression: 'entry, channels' }),
    );
    if (!Item) throw new Error(`connection ${connectionId} is not stored`);
    return new Set((Item.channels as Set<string> | undefined) ?? []);
  }

  private async putChannelItems(connectionId: string, patterns: readonly string[], expiresAt: number): Promise<void> {
    await this.batchWrite(
      [...new Set(patterns)].map((pattern) => ({
        PutRequest: { Item: { connectionId, entry: channelEntry(pattern), channel: pattern, expiresAt } },
      })),
    );
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
