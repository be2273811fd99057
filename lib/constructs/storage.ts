/** The DynamoDB tables, declared from the shared definitions (lambdas/adapters/dynamodb/table-definitions.ts). */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  ABLY_MESSAGES_TABLE,
  ABLY_STATE_TABLE,
  ATTEMPTS_TABLE,
  AUDIT_TABLE,
  CONNECTIONS_TABLE,
  DELIVERIES_TABLE,
  ENDPOINTS_TABLE,
  EVENT_TYPES_TABLE,
  EVENTS_TABLE,
  IDEMPOTENCY_TABLE,
  MESSAGES_TABLE,
  type KeyAttribute,
  type TableDefinition,
} from '../../lambdas/adapters/dynamodb/table-definitions';

export interface StorageProps {
  /**
   * What happens to the tables that hold data of record (events; outbound endpoints, messages, deliveries, attempts
   * and audit; the Ably message log and its sync state) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  removalPolicy?: RemovalPolicy;
}

export class Storage extends Construct {
  public readonly eventsTable: ITable;
  public readonly connectionsTable: ITable;
  public readonly endpointsTable: ITable;
  public readonly messagesTable: ITable;
  public readonly deliveriesTable: ITable;
  public readonly attemptsTable: ITable;
  public readonly idempotencyTable: ITable;
  public readonly auditTable: ITable;
  public readonly eventTypesTable: ITable;
  public readonly ablyMessagesTable: ITable;
  public readonly ablyStateTable: ITable;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const ofRecord = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.eventsTable = tableFrom(this, EVENTS_TABLE, ofRecord);
    // Connections are ephemeral (2 h at most): nothing to keep when the stack goes.
    this.connectionsTable = tableFrom(this, CONNECTIONS_TABLE, RemovalPolicy.DESTROY);

    // Outbound: endpoints hold operator settings and signing secrets; messages, deliveries, attempts and the audit
    // log are the record of what was sent to whom and who changed what.
    this.endpointsTable = tableFrom(this, ENDPOINTS_TABLE, ofRecord);
    this.messagesTable = tableFrom(this, MESSAGES_TABLE, ofRecord);
    this.deliveriesTable = tableFrom(this, DELIVERIES_TABLE, ofRecord);
    this.attemptsTable = tableFrom(this, ATTEMPTS_TABLE, ofRecord);
    this.auditTable = tableFrom(this, AUDIT_TABLE, ofRecord);
    // Idempotency keys only guard a client's retry of POST /api/messages within 24 h; a retained table would outlive
    // the stack that honoured them and protect nothing.
    this.idempotencyTable = tableFrom(this, IDEMPOTENCY_TABLE, RemovalPolicy.DESTROY);
    // Event types seen are a derived catalog: published messages fill it again, and declared types come from config.
    this.eventTypesTable = tableFrom(this, EVENT_TYPES_TABLE, RemovalPolicy.DESTROY);

    // Ably: the message log is the record of every channel message captured.
    this.ablyMessagesTable = tableFrom(this, ABLY_MESSAGES_TABLE, ofRecord);
    // The sync state looks rebuildable but is not. The per-channel counters grow only when a message is first
    // stored, so a fresh table would count from zero beside a log that still holds every earlier message, and
    // nothing recounts them. Without its cursor a channel's next sync starts over at the look-back window: a day of
    // history read again (Ably bills each message), and a channel that was further behind than that keeps its gap.
    // The runs are the audit of what the syncs did. So it is of record like the log it describes.
    this.ablyStateTable = tableFrom(this, ABLY_STATE_TABLE, ofRecord);
  }
}

function tableFrom(scope: Construct, definition: TableDefinition, removalPolicy: RemovalPolicy): Table {
  const table = new Table(scope, definition.logicalName, {
    partitionKey: attribute(definition.partitionKey),
    sortKey: definition.sortKey ? attribute(definition.sortKey) : undefined,
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: definition.timeToLiveAttribute,
    removalPolicy,
  });
  for (const index of definition.indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
      projectionType: ProjectionType[index.projection.type],
      nonKeyAttributes: index.projection.type === 'INCLUDE' ? index.projection.attributes : undefined,
    });
  }
  return table;
}

function attribute(key: KeyAttribute) {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}
