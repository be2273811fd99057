/**
 * EventTypeCatalog's `seen` half over the EventTypes table: one item per type name. A type is recorded by an
 * UpdateItem that keeps the first sighting and moves the last, so publishers never read before they write.
 */
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventTypeEntry } from '../../core/outbound/outbound-model';
import type { EventTypeCatalog } from '../../core/outbound/outbound-ports';

export class DynamoDbEventTypeCatalog implements EventTypeCatalog {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One update per distinct name (the last source given for a name is kept), in parallel. */
  async recordSeen(entries: readonly { name: string; source: string }[], at: string): Promise<void> {
    const sources = new Map(entries.map((entry) => [entry.name, entry.source]));
    await Promise.all(
      [...sources].map(([name, source]) =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { name },
            UpdateExpression: 'SET firstSeenAt = if_not_exists(firstSeenAt, :at), lastSeenAt = :at, #source = :source',
            ExpressionAttributeNames: { '#source': 'source' },
            ExpressionAttributeValues: { ':at': at, ':source': source },
          }),
        ),
      ),
    );
  }

  /** A Scan of the whole table (types are few), by name. */
  async listSeen(): Promise<EventTypeEntry[]> {
    const seen: EventTypeEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) {
        seen.push({ name: String(item.name), declared: false, firstSeenAt: String(item.firstSeenAt), lastSeenAt: String(item.lastSeenAt) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return seen.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
