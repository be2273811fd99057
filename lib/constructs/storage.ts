/** The DynamoDB tables, declared from the shared definitions (lambdas/adapters/dynamodb/table-definitions.ts). */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { CONNECTIONS_TABLE, EVENTS_TABLE, type KeyAttribute, type TableDefinition } from '../../lambdas/adapters/dynamodb/table-definitions';

export interface StorageProps {
  /** What happens to the event store when the stack is deleted. @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
}

export class Storage extends Construct {
  public readonly eventsTable: ITable;
  public readonly connectionsTable: ITable;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    this.eventsTable = tableFrom(this, EVENTS_TABLE, props.removalPolicy ?? RemovalPolicy.RETAIN);
    // Connections are ephemeral (2 h at most): nothing to keep when the stack goes.
    this.connectionsTable = tableFrom(this, CONNECTIONS_TABLE, RemovalPolicy.DESTROY);
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
      projectionType: index.projection.type === 'INCLUDE' ? ProjectionType.INCLUDE : ProjectionType.KEYS_ONLY,
      nonKeyAttributes: index.projection.type === 'INCLUDE' ? index.projection.attributes : undefined,
    });
  }
  return table;
}

function attribute(key: KeyAttribute) {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}
