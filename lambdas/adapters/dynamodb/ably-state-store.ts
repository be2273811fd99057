/**
 * SyncStateStore over the AblyState table (see ABLY_STATE_TABLE for the layout). Per channel one cursor item
 * (`cursor#<source>`, channel) holding the cursor and the lease: each change is one conditional UpdateItem, so two
 * runs can never both hold a channel and a cursor never moves back. Runs live in one `runs` partition sorted by
 * `<startedAt>#<runId>`, so newest first is a backwards query; there are few of them (one per source every few
 * minutes, expiring), so one partition is not hot.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SyncRun, SyncStateStore } from '../../providers/ably/ably-ports';

const RUNS_PARTITION = 'runs';
/** Items read per query page when filtering runs by source: most runs belong to one source, so a page usually suffices. */
const RUNS_QUERY_PAGE = 100;

export class DynamoDbSyncStateStore implements SyncStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async acquireLease(source: string, channel: string, owner: string, nowMs: number, leaseUntilMs: number): Promise<{ acquired: true; cursorMs?: number } | { acquired: false }> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: cursorKey(source, channel),
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          // Free (never taken, or released), expired, or already ours (a retried acquire must not lock itself out).
          ConditionExpression: 'attribute_not_exists(leaseOwner) OR leaseUntil <= :now OR leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner, ':until': leaseUntilMs, ':now': nowMs },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const cursorMs = Attributes?.cursorMs;
      return typeof cursorMs === 'number' ? { acquired: true, cursorMs } : { acquired: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { acquired: false };
      throw error;
    }
  }

  async advanceCursor(source: string, channel: string, owner: string, cursorMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: cursorKey(source, channel),
          UpdateExpression: 'SET cursorMs = :cursor',
          ConditionExpression: 'leaseOwner = :owner AND (attribute_not_exists(cursorMs) OR cursorMs < :cursor)',
          ExpressionAttributeValues: { ':owner': owner, ':cursor': cursorMs },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // The condition has two halves: a cursor already at or past this value is a success for the lease owner (the
    // cursor is where the caller wants it, or further); only a lost lease is a failure. One consistent read tells.
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: cursorKey(source, channel), ConsistentRead: true }));
    return Item?.leaseOwner === owner && typeof Item.cursorMs === 'number' && Item.cursorMs >= cursorMs;
  }

  async releaseLease(source: string, channel: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: cursorKey(source, channel),
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      // Lost meanwhile: the lease is someone else's now, and theirs to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async cursors(source: string): Promise<{ channel: string; cursorMs: number }[]> {
    const cursors: { channel: string; cursorMs: number }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': cursorPartition(source) },
          ProjectionExpression: 'sk, cursorMs',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        // A channel leased but never advanced has no cursor yet.
        if (typeof item.cursorMs === 'number') cursors.push({ channel: String(item.sk), cursorMs: item.cursorMs });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return cursors;
  }

  async saveRun(run: SyncRun, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        // The run as one JSON attribute: read back whole, never queried inside, and free of the document client's
        // undefined-value rules (optional fields such as a channel's cursorMs).
        Item: { pk: RUNS_PARTITION, sk: runSortKey(run), source: run.source, run: JSON.stringify(run), expiresAt },
      }),
    );
  }

  async listRuns(query: { source?: string; limit: number }): Promise<SyncRun[]> {
    const runs: SyncRun[] = [];
    if (query.limit <= 0) return runs;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ...(query.source !== undefined
            ? { FilterExpression: '#source = :source', ExpressionAttributeNames: { '#source': 'source' }, ExpressionAttributeValues: { ':pk': RUNS_PARTITION, ':source': query.source } }
            : { ExpressionAttributeValues: { ':pk': RUNS_PARTITION } }),
          ScanIndexForward: false,
          // Limit counts items before the filter: without one, a page holds exactly what is wanted.
          Limit: query.source !== undefined ? Math.max(query.limit, RUNS_QUERY_PAGE) : query.limit - runs.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (runs.length < query.limit) runs.push(JSON.parse(String(item.run)) as SyncRun);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && runs.length < query.limit);
    return runs;
  }
}

function cursorPartition(source: string): string {
  return `cursor#${source}`;
}

function cursorKey(source: string, channel: string): { pk: string; sk: string } {
  return { pk: cursorPartition(source), sk: channel };
}

function runSortKey(run: SyncRun): string {
  return `${run.startedAt}#${run.runId}`;
}
