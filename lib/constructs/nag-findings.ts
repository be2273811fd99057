/**
 * cdk-nag reports some rules per finding (`AwsSolutions-IAM5[Resource::...]`) and matches acknowledgements exactly,
 * so a precise acknowledgement names the rendered resource. These helpers render it the way cdk-nag does, which
 * keeps each acknowledgement scoped to the one wildcard it explains instead of the whole rule.
 */
import { Stack, Token, type CfnElement } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IWebSocketApi } from 'aws-cdk-lib/aws-apigatewayv2';

function logicalIdOf(construct: ITable | IWebSocketApi): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

function pseudo(value: string, name: string): string {
  return Token.isUnresolved(value) ? `<AWS::${name}>` : value;
}

/** The `<table>/index/*` resource that DynamoDB grants add for querying GSIs. */
export function tableIndexesFinding(table: ITable): string {
  return `AwsSolutions-IAM5[Resource::<${logicalIdOf(table)}.Arn>/index/*]`;
}

/** The `@connections/*` resource of a WebSocket stage's management API grant. */
export function connectionsFinding(api: IWebSocketApi, stageName: string): string {
  const stack = Stack.of(api);
  return `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${pseudo(stack.region, 'Region')}:${pseudo(stack.account, 'AccountId')}:<${logicalIdOf(api)}>/${stageName}/*/@connections/*]`;
}
