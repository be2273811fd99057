/** Grants on DynamoDB tables that CDK's own `table.grant` cannot express. */
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';

/** The actions on the table itself, not its indexes (a table grant adds `<table>/index/*` whenever it has any). */
export function grantOnTableOnly(grantee: IGrantable, table: ITable, ...actions: string[]): Grant {
  return Grant.addToPrincipal({ grantee, actions, resourceArns: [table.tableArn] });
}
