/**
 * IdempotencyStore over the IdempotencyKeys table: one item per key, claimed with a conditional put. A losing
 * claim learns what the key holds from the failed write itself (ReturnValuesOnConditionCheckFailure), so a retried
 * POST /api/messages costs one write, not a write and a read. dynalite does not return the item on a failed
 * condition; there, and only there, a consistent GetItem answers instead.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyBegin, IdempotencyStore } from '../../core/outbound/outbound-ports';

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * An item past its `expiresAt` counts as absent (TTL deletes up to days late), so the claim's condition lets it be
   * overwritten. "Now" is `startedAt`: the same clock that set the expiry of every claim.
   */
  async begin(key: string, messageId: string, startedAt: string, expiresAt: number): Promise<IdempotencyBegin> {
    // Two rounds: should the item that refused the claim be gone by the time it is read (TTL), claim once more.
    for (let round = 1; ; round++) {
      const refusedBy = await this.claim(key, messageId, startedAt, expiresAt);
      if (refusedBy === undefined) return { started: true };
      if (refusedBy !== 'gone') return { started: false, ...refusedBy };
      if (round === 2) throw new Error(`idempotency key ${key} was refused by an item that is no longer there, twice`);
    }
  }

  /** Undefined if claimed; else what the key holds, or `gone` if the refusing item was deleted before it was read. */
  private async claim(key: string, messageId: string, startedAt: string, expiresAt: number): Promise<Held | 'gone' | undefined> {
    const nowSeconds = Math.floor(Date.parse(startedAt) / 1000);
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { key, messageId, state: 'pending', startedAt, expiresAt },
          ConditionExpression: 'attribute_not_exists(#key) OR expiresAt <= :now',
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: { ':now': nowSeconds },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The exception carries the item in DynamoDB's wire form: the document client does not convert errors.
      const old = error.Item;
      if (old?.messageId?.S !== undefined && old.state?.S !== undefined && old.startedAt?.S !== undefined) {
        return heldOf({ messageId: old.messageId.S, state: old.state.S, startedAt: old.startedAt.S });
      }
      const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { key }, ConsistentRead: true }));
      return Item ? heldOf(Item) : 'gone';
    }
  }

  async takeOver(key: string, expectedStartedAt: string, startedAt: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { key },
          UpdateExpression: 'SET startedAt = :now',
          ConditionExpression: 'startedAt = :expected AND #state = :pending',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':now': startedAt, ':expected': expectedStartedAt, ':pending': 'pending' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async complete(key: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { key },
          UpdateExpression: 'SET #state = :done',
          // Never create a stub without an expiry for a key that expired meanwhile.
          ConditionExpression: 'attribute_exists(#key)',
          ExpressionAttributeNames: { '#key': 'key', '#state': 'state' },
          ExpressionAttributeValues: { ':done': 'done' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

type Held = Omit<Extract<IdempotencyBegin, { started: false }>, 'started'>;

function heldOf(item: Record<string, unknown>): Held {
  return { messageId: String(item.messageId), state: item.state === 'done' ? 'done' : 'pending', startedAt: String(item.startedAt) };
}
