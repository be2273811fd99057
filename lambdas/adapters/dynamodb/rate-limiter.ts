/**
 * RateLimiter over the Attempts table: one counter item per endpoint and second (`rate#<epoch second>`, deleted by
 * TTL a minute later), shared by every delivery worker. A take is one conditional ADD that succeeds only if the
 * window still has room for all of it; refused, it takes what is left with another conditional ADD. Each ADD is
 * checked and applied atomically on the one item, so concurrent workers never grant more than the limit per second.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../core/outbound/outbound-ports';

/** How long a window's item outlives its second: TTL deletes it some time after that. */
const WINDOW_TTL_SECONDS = 60;
/** Conditional ADDs one take may make: the whole of it, then what is left, again if another worker took some meanwhile. */
const MAX_TAKES = 3;

export class DynamoDbRateLimiter implements RateLimiter {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(endpointId: string, wanted: number, limitPerSecond: number, nowMs: number): Promise<number> {
    const second = Math.floor(nowMs / 1000);
    const key = { endpointId, entry: `rate#${second}` };
    const limit = Math.floor(limitPerSecond);
    let asking = Math.min(Math.floor(wanted), limit);
    for (let take = 1; asking > 0 && take <= MAX_TAKES; take++) {
      const used = await this.add(key, asking, limit, second + WINDOW_TTL_SECONDS);
      if (used === undefined) return asking;
      asking = Math.min(asking, limit - used);
    }
    return 0;
  }

  /**
   * Adds `count` to the window if it stays within `limit`: undefined if it did, else the count the window held.
   * DynamoDB answers that with the refusal (ReturnValuesOnConditionCheckFailure); dynalite does not, so there a
   * consistent read does.
   */
  private async add(key: { endpointId: string; entry: string }, count: number, limit: number, expiresAt: number): Promise<number | undefined> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD used :count SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(used) OR used <= :max',
          ExpressionAttributeValues: { ':count': count, ':max': limit - count, ':expiresAt': expiresAt },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The exception carries the item in DynamoDB's wire form: the document client does not convert errors.
      const used = error.Item?.used?.N;
      if (used !== undefined) return Number(used);
      const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ProjectionExpression: 'used' }));
      return Number(Item?.used ?? 0);
    }
  }
}
