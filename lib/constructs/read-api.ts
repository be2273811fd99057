/** Read API routes on the shared HTTP API: events list and detail, health. Authorized in the handler (admin key). */
import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { HookhubFunction } from './hookhub-function';
import { tableIndexesFinding } from './nag-findings';

export interface ReadApiProps {
  httpApi: HttpApi;
  eventsTable: ITable;
  inboundQueue: IQueue;
  deadLetterQueue: IQueue;
  adminKey: ISecret;
  retentionDays: number;
}

export class ReadApi extends Construct {
  public readonly function: HookhubFunction;

  constructor(scope: Construct, id: string, props: ReadApiProps) {
    super(scope, id);
    this.function = new HookhubFunction(this, 'Handler', {
      handler: 'httpReadApi',
      timeout: Duration.seconds(10),
      environment: {
        HOOKHUB_EVENTS_TABLE: props.eventsTable.tableName,
        HOOKHUB_INBOUND_QUEUE_URL: props.inboundQueue.queueUrl,
        HOOKHUB_DEAD_LETTER_QUEUE_URL: props.deadLetterQueue.queueUrl,
        HOOKHUB_ADMIN_KEY_SECRET: props.adminKey.secretArn,
        HOOKHUB_RETENTION_DAYS: String(props.retentionDays),
      },
    });
    props.eventsTable.grant(this.function.function, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem');
    Validations.of(this.function).acknowledge({ id: tableIndexesFinding(props.eventsTable), reason: 'List queries on the events GSIs.' });
    for (const queue of [props.inboundQueue, props.deadLetterQueue]) {
      queue.grant(this.function.function, 'sqs:GetQueueAttributes');
    }
    props.adminKey.grantRead(this.function.function);

    const integration = new HttpLambdaIntegration('ReadApiIntegration', this.function.function);
    for (const path of ['/api/events', '/api/events/{id}', '/health']) {
      props.httpApi.addRoutes({ path, methods: [HttpMethod.GET], integration });
    }
  }
}
