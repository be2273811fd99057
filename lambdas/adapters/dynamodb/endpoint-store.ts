/**
 * EndpointStore over the Endpoints table: one item per endpoint, the Endpoint itself. Health (failures, disabling)
 * is kept with single conditional updates, so concurrent delivery workers need no read-modify-write: `disable`
 * is conditional on `disabled = false`, so exactly one of them wins and emits `endpoint.disabled`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Endpoint } from '../../core/outbound/outbound-model';
import type { EndpointSettings, EndpointStore, Page } from '../../core/outbound/outbound-ports';
import { BadRequestError, ConflictError } from '../../core/errors';
import { decodePageCursor, encodePageCursor, idPattern } from './page-cursor';

/** The settings an update may change; any other key of `changes` is ignored, so an update never rewrites an id or health. */
const SETTINGS: readonly (keyof EndpointSettings)[] = [
  'url',
  'description',
  'eventTypes',
  'sources',
  'headers',
  'rateLimitPerSecond',
  'retrySchedule',
  'failureThreshold',
  'disabled',
];
/** Settings that may be absent: `undefined` removes them. For the others `undefined` means "unchanged". */
const OPTIONAL_SETTINGS: ReadonlySet<keyof EndpointSettings> = new Set(['rateLimitPerSecond', 'retrySchedule']);
/** The failure run that enabling a disabled endpoint clears. */
const FAILURE_RUN = ['failingSince', 'disabledReason', 'disabledAt'] as const;
/** Reads and conditional updates of one enabling update before it gives up under contention (a worker disabling it meanwhile). */
const MAX_ENABLE_ROUNDS = 4;

const CURSOR_FIELDS = { after: { pattern: idPattern('ep_') } };

export class DynamoDbEndpointStore implements EndpointStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(endpoint: Endpoint): Promise<void> {
    try {
      await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...definedOnly(endpoint), secrets: endpoint.secrets.map(definedOnly) }, ConditionExpression: 'attribute_not_exists(id)' }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new Error(`endpoint ${endpoint.id} exists already`, { cause: error });
      throw error;
    }
  }

  async get(id: string): Promise<Endpoint | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
    return Item ? (Item as Endpoint) : undefined;
  }

  /**
   * A Scan, since endpoints are few: each page is sorted oldest first by its time-ordered ids, pages follow the
   * table's (hash) order. Reads one item past the page to tell whether another page follows, so the last page
   * carries no cursor.
   */
  async list(options: { limit: number; cursor?: string }): Promise<Page<Endpoint>> {
    const after = options.cursor === undefined ? undefined : decodePageCursor(options.cursor, CURSOR_FIELDS).after;
    let result;
    try {
      result = await this.documents.send(
        new ScanCommand({ TableName: this.tableName, Limit: options.limit + 1, ConsistentRead: true, ExclusiveStartKey: after === undefined ? undefined : { id: after } }),
      );
    } catch (error) {
      // The cursor's shape is checked; should DynamoDB still refuse it as a start key, that is the client's cursor.
      if (after !== undefined && (error as Error).name === 'ValidationException') throw new BadRequestError('cursor is not valid', { cause: error });
      throw error;
    }
    const items = (result.Items ?? []) as Endpoint[];
    const kept = items.slice(0, options.limit);
    const more = items.length > kept.length || result.LastEvaluatedKey !== undefined;
    const last = kept[kept.length - 1];
    return {
      items: [...kept].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      ...(more && last ? { cursor: encodePageCursor({ after: last.id }) } : {}),
    };
  }

  async update(id: string, changes: Partial<EndpointSettings>, updatedAt: string): Promise<Endpoint | undefined> {
    if (changes.disabled !== false) return this.applySettings(id, changes, updatedAt);
    // Enabling clears the failure run only if the endpoint is disabled, which one update cannot decide for itself:
    // read it, then update conditional on what was read, and read again should a worker have changed it meanwhile.
    for (let round = 1; ; round++) {
      const current = await this.get(id);
      if (!current) return undefined;
      try {
        return await this.applySettings(id, changes, updatedAt, current.disabled);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        if (round === MAX_ENABLE_ROUNDS) throw new ConflictError(`endpoint '${id}' kept changing while it was being enabled; try again`);
      }
    }
  }

  /**
   * One UpdateItem applying the settings. With `wasDisabled` given, it is conditional on the endpoint still having
   * that `disabled` state (and throws ConditionalCheckFailedException otherwise); a true `wasDisabled` also clears
   * the failure run.
   */
  private async applySettings(id: string, changes: Partial<EndpointSettings>, updatedAt: string, wasDisabled?: boolean): Promise<Endpoint | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':updatedAt': updatedAt };
    const set = ['updatedAt = :updatedAt'];
    const remove: string[] = [];
    SETTINGS.forEach((setting, index) => {
      if (!Object.hasOwn(changes, setting)) return;
      const value = changes[setting];
      if (value === undefined && !OPTIONAL_SETTINGS.has(setting)) return;
      names[`#s${index}`] = setting;
      if (value === undefined) {
        remove.push(`#s${index}`);
      } else {
        values[`:s${index}`] = value;
        set.push(`#s${index} = :s${index}`);
      }
    });
    let condition = 'attribute_exists(id)';
    if (wasDisabled !== undefined) {
      condition += ' AND disabled = :wasDisabled';
      values[':wasDisabled'] = wasDisabled;
    }
    if (wasDisabled === true) {
      set.push('consecutiveFailures = :zero');
      values[':zero'] = 0;
      remove.push(...FAILURE_RUN);
    }
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as Endpoint;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && wasDisabled === undefined) return undefined;
      throw error;
    }
  }

  async delete(id: string): Promise<boolean> {
    const { Attributes } = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { id }, ReturnValues: 'ALL_OLD' }));
    return Attributes !== undefined;
  }

  async setSecrets(id: string, secrets: Endpoint['secrets'], updatedAt: string, expectedCurrent: string): Promise<Endpoint | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET secrets = :secrets, updatedAt = :at',
          ConditionExpression: 'attribute_exists(id) AND secrets[0].secret = :current',
          ExpressionAttributeValues: { ':secrets': secrets.map(definedOnly), ':at': updatedAt, ':current': expectedCurrent },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as Endpoint;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!(await this.get(id))) return undefined;
      throw new ConflictError(`the secret of endpoint '${id}' was rotated meanwhile; rotate again if another secret is wanted`);
    }
  }

  async recordSuccess(id: string, at: string): Promise<{ previousConsecutiveFailures: number } | undefined> {
    try {
      // UPDATED_OLD: the values the update replaced, so the count before this success comes back with the write.
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET consecutiveFailures = :zero, lastSuccessAt = :at REMOVE failingSince',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':zero': 0, ':at': at },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return { previousConsecutiveFailures: Number(Attributes?.consecutiveFailures ?? 0) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async recordFailures(id: string, count: number, at: string): Promise<Endpoint | undefined> {
    return this.updateExisting(id, 'ADD consecutiveFailures :count SET lastFailureAt = :at, failingSince = if_not_exists(failingSince, :at)', {
      ':count': count,
      ':at': at,
    });
  }

  async disable(id: string, reason: string, at: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET disabled = :true, disabledReason = :reason, disabledAt = :at, updatedAt = :at',
          // Absent `disabled` fails the comparison too, so a deleted endpoint is not recreated as a stub.
          ConditionExpression: 'disabled = :false',
          ExpressionAttributeValues: { ':true': true, ':false': false, ':reason': reason, ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** An update of an existing endpoint (never creating one): the endpoint after it, or undefined if there is none. */
  private async updateExisting(id: string, updateExpression: string, values: Record<string, unknown>): Promise<Endpoint | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: updateExpression,
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as Endpoint;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

/** The object without its undefined properties: optional fields may be present as `undefined` in a TypeScript object. */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
