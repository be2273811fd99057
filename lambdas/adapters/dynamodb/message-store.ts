/** MessageStore over the Messages table: one item per published message, keyed by its `msg_` id. */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OutboundMessage } from '../../core/outbound/outbound-model';
import type { MessageStore } from '../../core/outbound/outbound-ports';
import { batchGetItems } from './batch-operations';

export class DynamoDbMessageStore implements MessageStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(message: OutboundMessage): Promise<void> {
    const item = Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined));
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async get(id: string): Promise<OutboundMessage | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
    return Item ? (Item as OutboundMessage) : undefined;
  }

  /** BatchGetItem, 100 keys a request; a repeated id is asked for once (DynamoDB refuses duplicate keys). */
  async getMany(ids: readonly string[]): Promise<OutboundMessage[]> {
    const keys = [...new Set(ids)].map((id) => ({ id }));
    return (await batchGetItems(this.documents, this.tableName, keys)) as unknown as OutboundMessage[];
  }
}
