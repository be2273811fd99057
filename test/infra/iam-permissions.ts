/**
 * A role's permissions in a synthesized template as `{ resource: actions }`, so that a test states a function's
 * whole grant at once (least privilege is about what is absent as much as what is present). Resources are named by
 * the logical id they refer to (`<table>/index/*` for an index grant); `Ref: AWS::NoValue` entries (a table grant's
 * index slot on a table without indexes) are left out.
 */
import type { Template } from 'aws-cdk-lib/assertions';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

function resourceName(resource: unknown): string | undefined {
  if (typeof resource === 'string') return resource;
  const value = resource as Record<string, unknown>;
  if ('Ref' in value) return value.Ref === 'AWS::NoValue' ? undefined : String(value.Ref);
  if ('Fn::GetAtt' in value) return String((value['Fn::GetAtt'] as string[])[0]);
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resourceName(part) ?? '').join(separator);
  }
  return JSON.stringify(resource);
}

/** The function's role, found by a fragment of the function's logical id. */
export function roleOfFunction(template: Template, functionIdFragment: string | RegExp): string {
  const functions = template.findResources('AWS::Lambda::Function');
  const ids = Object.keys(functions).filter((id) => id.match(functionIdFragment));
  if (ids.length !== 1) throw new Error(`expected one function matching ${functionIdFragment}, found ${ids.join(', ') || 'none'}`);
  return (functions[ids[0]!]!.Properties.Role['Fn::GetAtt'] as string[])[0]!;
}

export function permissionsOf(template: Template, roleLogicalId: string): Record<string, string[]> {
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  const byResource: Record<string, Set<string>> = {};
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') throw new Error(`unexpected ${statement.Effect} statement on ${roleLogicalId}`);
    for (const resource of [statement.Resource].flat()) {
      const name = resourceName(resource);
      if (name === undefined) continue;
      for (const action of [statement.Action].flat()) (byResource[name] ??= new Set()).add(action);
    }
  }
  return Object.fromEntries(Object.entries(byResource).map(([name, actions]) => [name, [...actions].sort()]));
}
