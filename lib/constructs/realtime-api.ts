/**
 * WebSocket API: $connect (admin key + channel filter), $disconnect, $default (subscribe/unsubscribe). Exposes the
 * stage's callback URL and a grant helper for whoever pushes to connections (the worker).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { HookhubFunction } from './hookhub-function';
import { connectionsFinding, tableIndexesFinding } from './nag-findings';

export interface RealtimeApiProps {
  connectionsTable: ITable;
  adminKey: ISecret;
}

export class RealtimeApi extends Construct {
  public readonly webSocketApi: WebSocketApi;
  public readonly stage: WebSocketStage;

  constructor(scope: Construct, id: string, props: RealtimeApiProps) {
    super(scope, id);
    this.webSocketApi = new WebSocketApi(this, 'WebSocketApi', { description: 'hookhub realtime events' });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName: 'live',
      autoDeploy: true,
      throttle: { rateLimit: 100, burstLimit: 200 },
    });

    const environment = {
      HOOKHUB_CONNECTIONS_TABLE: props.connectionsTable.tableName,
      HOOKHUB_WS_CALLBACK_URL: this.stage.callbackUrl,
      HOOKHUB_ADMIN_KEY_SECRET: props.adminKey.secretArn,
    };
    const connect = new HookhubFunction(this, 'Connect', { handler: 'wsConnect', timeout: Duration.seconds(10), environment });
    const disconnect = new HookhubFunction(this, 'Disconnect', { handler: 'wsDisconnect', timeout: Duration.seconds(10), environment });
    const messages = new HookhubFunction(this, 'Default', { handler: 'wsDefault', timeout: Duration.seconds(10), environment });

    props.adminKey.grantRead(connect.function);
    props.connectionsTable.grant(connect.function, 'dynamodb:PutItem', 'dynamodb:BatchWriteItem');
    props.connectionsTable.grant(disconnect.function, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    // GetItem and UpdateItem: a subscribe counts the connection's set and changes it with one conditional update.
    props.connectionsTable.grant(messages.function, 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem');
    this.grantPush(messages);
    for (const fn of [connect, disconnect, messages]) {
      Validations.of(fn).acknowledge({ id: tableIndexesFinding(props.connectionsTable), reason: "Subscriber lookups on the connections table's own GSI." });
    }
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: '$connect checks the admin key itself (a token in the query, as browsers cannot set WebSocket headers); the other routes only run on admitted connections.',
    });
    Validations.of(this.stage).acknowledge({
      id: 'AwsSolutions-APIG1',
      reason: 'WebSocket access logs need the account-wide API Gateway CloudWatch role, which a stack should not take over; handler logs cover each route.',
    });

    this.webSocketApi.addRoute('$connect', { integration: new WebSocketLambdaIntegration('ConnectIntegration', connect.function) });
    this.webSocketApi.addRoute('$disconnect', { integration: new WebSocketLambdaIntegration('DisconnectIntegration', disconnect.function) });
    this.webSocketApi.addRoute('$default', { integration: new WebSocketLambdaIntegration('DefaultIntegration', messages.function) });
  }

  get callbackUrl(): string {
    return this.stage.callbackUrl;
  }

  get url(): string {
    return this.stage.url;
  }

  /** PostToConnection/DeleteConnection on this stage's connections only. */
  grantPush(target: HookhubFunction) {
    const grant = this.stage.grantManagementApiAccess(target.function);
    Validations.of(target).acknowledge({
      id: connectionsFinding(this.webSocketApi, this.stage.stageName),
      reason: 'Connection ids exist only at run time; the grant is limited to this API and stage.',
    });
    return grant;
  }
}
