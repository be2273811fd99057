/**
 * The shared Lambda defaults: Node 22 on arm64 (cheaper per GB-second), an esbuild bundle of one handler entry with
 * its source map, a log group with explicit retention and removal policy, and Powertools settings.
 *
 * Node does not read the source map unless NODE_OPTIONS has `--enable-source-maps`, which costs every cold start
 * the parsing of the map (tens of milliseconds). It is off by default; to get stack traces that name the
 * TypeScript sources, deploy with `npx cdk deploy -c hookhub:sourceMaps=true` (see docs/decisions.md).
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { BUNDLE_SETTINGS, HANDLER_ENTRIES, PROJECT_ROOT, type HandlerName } from '../bundling';

/** CDK context key (`-c hookhub:sourceMaps=true`) that turns on `--enable-source-maps` in every function. */
export const SOURCE_MAPS_CONTEXT_KEY = 'hookhub:sourceMaps';

export interface HookhubFunctionProps {
  handler: HandlerName;
  /** @default Duration.seconds(10) */
  timeout?: Duration;
  /** @default 512 */
  memorySize?: number;
  environment?: Record<string, string>;
  /** @default RetentionDays.ONE_MONTH */
  logRetention?: RetentionDays;
  /** @default RemovalPolicy.DESTROY (logs are not the system of record) */
  logRemovalPolicy?: RemovalPolicy;
  /**
   * Concurrency set aside for this function alone; it is also the most it may use. Lambda refuses a reservation
   * that leaves fewer than 100 units unreserved in the account, and on an account whose quota is lower than that
   * (new accounts may start at 10) it refuses any reservation: the deployment fails, so omit it there.
   * @default none (the function shares the account's unreserved pool)
   */
  reservedConcurrency?: number;
}

export class HookhubFunction extends Construct {
  /** The handler entry this function bundles (lib/bundling.ts), so tools such as `npm run bench` can find it. */
  public readonly handlerName: HandlerName;
  public readonly function: NodejsFunction;
  public readonly logGroup: LogGroup;
  public readonly role: Role;

  constructor(scope: Construct, id: string, props: HookhubFunctionProps) {
    super(scope, id);
    this.handlerName = props.handler;
    if (props.reservedConcurrency !== undefined && !(Number.isInteger(props.reservedConcurrency) && props.reservedConcurrency >= 1)) {
      // 0 is valid for Lambda, but it throttles every invocation: a switch-off, never a limit.
      throw new Error(`${this.node.path}: reservedConcurrency must be an integer of at least 1 (0 would refuse every invocation); omit it to reserve nothing`);
    }
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: it may write to this function's log group only.
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      role: this.role,
      entry: join(PROJECT_ROOT, HANDLER_ENTRIES[props.handler]),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 512,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: {
        ...(sourceMapsEnabled(this) ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: BUNDLE_SETTINGS,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing: xray:PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to Node.js 22 by design (the code is also kept running on Node 20 for the local runtime); move deliberately.',
    });
  }
}

function sourceMapsEnabled(scope: Construct): boolean {
  const value: unknown = scope.node.tryGetContext(SOURCE_MAPS_CONTEXT_KEY);
  return value === true || value === 'true';
}
