/**
 * An EventBridge schedule that invokes a Lambda function with a fixed input: one rule, one target. Shaped like AWS
 * Solutions Constructs' EventbridgeToLambda (an existing function, the rule it gets, `eventsRule` and
 * `lambdaFunction` exposed) without taking that library on for one rule. Used for the Ably history sync (a rule per
 * source) and meant for later schedules such as retention cleanup.
 */
import { Rule, RuleTargetInput, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface ScheduledFunctionProps {
  /** When the function runs: `Schedule.rate(...)`, `Schedule.cron(...)` or `Schedule.expression('rate(5 minutes)')`. */
  readonly schedule: Schedule;
  /** The function the rule invokes (asynchronously: a run's result goes nowhere, and its failures to its logs). */
  readonly function: IFunction;
  /**
   * The event the function receives, as JSON, instead of EventBridge's scheduled-event envelope.
   * @default the scheduled event
   */
  readonly input?: Readonly<Record<string, unknown>>;
  /** @default none */
  readonly description?: string;
}

export class ScheduledFunction extends Construct {
  public readonly eventsRule: Rule;
  public readonly lambdaFunction: IFunction;

  constructor(scope: Construct, id: string, props: ScheduledFunctionProps) {
    super(scope, id);
    this.lambdaFunction = props.function;
    this.eventsRule = new Rule(this, 'Rule', { schedule: props.schedule, description: props.description });
    // The target also adds the resource policy that lets this rule (only) invoke the function.
    this.eventsRule.addTarget(new LambdaFunction(props.function, { event: props.input ? RuleTargetInput.fromObject(props.input) : undefined }));
  }
}
