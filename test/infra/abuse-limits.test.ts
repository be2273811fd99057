/**
 * AWS-side abuse limits and synth-time refusals: per-route throttles, concurrency caps, the alarms on verification
 * failures and errors, the queues' stated message size, and config that would only fail after a deploy.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { HookhubStack, type HookhubStackProps } from '../../lib/hookhub-stack';
import { parseHookhubConfig, type HookhubConfigInput } from '../../lambdas/core/sources/source-definition';
import { DELIVERY_QUEUE, INBOUND_QUEUE } from '../../lambdas/adapters/sqs/queue-definitions';
import { HTTP_ROUTES, routeKeyOf } from '../../lambdas/handlers/http/http-routes';

const demo = { id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { secretName: 'hookhub/sources/demo' } } as const;
const github = { id: 'github', verification: { scheme: 'hmac', header: 'X-Hub-Signature-256', prefix: 'sha256=' }, secret: { secretName: 'hookhub/sources/github' } } as const;

function buildStack(sources: HookhubConfigInput['sources'] = [demo, github], props: Partial<HookhubStackProps> = {}, stackName = 'AbuseTest'): HookhubStack {
  // Skip esbuild: these tests are about the template.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new HookhubStack(app, stackName, { config: parseHookhubConfig({ sources }), env: { account: '123456789012', region: 'eu-west-1' }, ...props });
}

let template: Template;

beforeAll(() => {
  template = Template.fromStack(buildStack());
});

function logicalId(type: string, fragment: string | RegExp, properties?: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, properties ? { Properties: properties } : undefined)).filter((id) => id.match(fragment));
  if (ids.length !== 1) throw new Error(`expected one ${type} matching ${fragment}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

describe('route throttles', () => {
  it('throttles ingest and each read route separately, under the stage default', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 }),
      RouteSettings: {
        'ANY /hooks/{source}': { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
        'GET /api/events': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
        'GET /api/events/{id}': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
        'GET /health': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
        $default: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      },
    });
  });

  it('throttles each management route separately, 20 rps with a burst of 40 unless configured', () => {
    const managementRouteKeys = HTTP_ROUTES.filter((route) => route.functionName === 'http-management-api').map(routeKeyOf);
    const settingsOf = (stackTemplate: Template) =>
      Object.values(stackTemplate.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } }))[0]!.Properties.RouteSettings as Record<string, unknown>;
    for (const routeKey of managementRouteKeys) {
      expect({ routeKey, settings: settingsOf(template)[routeKey] }).toEqual({ routeKey, settings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 } });
    }
    const configured = Template.fromStack(buildStack(undefined, { outbound: { managementThrottle: { rateLimit: 2, burstLimit: 4 } } }));
    expect(settingsOf(configured)['DELETE /api/endpoints/{id}']).toEqual({ ThrottlingRateLimit: 2, ThrottlingBurstLimit: 4 });
  });

  it('creates every throttled route before the stage that names it', () => {
    const stage = template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } });
    const dependsOn = Object.values(stage)[0]!.DependsOn as string[];
    for (const routeKey of HTTP_ROUTES.map(routeKeyOf)) {
      expect(dependsOn).toContain(logicalId('AWS::ApiGatewayV2::Route', /./, { RouteKey: routeKey }));
    }
  });

  it('writes JSON access logs with the source IP, route key and status', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } }))[0]!;
    const format = stage.Properties.AccessLogSettings.Format as string;
    const line = JSON.parse(format.replace('$context.status', '401')) as Record<string, unknown>;
    expect(line).toMatchObject({ ip: '$context.identity.sourceIp', routeKey: '$context.routeKey', status: 401, requestId: '$context.requestId' });
  });

  it('refuses a route throttle above the stage default, or below 1', () => {
    expect(() => buildStack(undefined, { limits: { ingestThrottle: { rateLimit: 5000, burstLimit: 1000 } } })).toThrow(/ANY \/hooks\/\{source\}.*rateLimit 5000 is above the stage default of 1000/);
    expect(() => buildStack(undefined, { limits: { readApiThrottle: { rateLimit: 0, burstLimit: 0 } } })).toThrow(/GET \/api\/events.*at least 1/);
  });
});

describe('concurrency', () => {
  const reservations = (stackTemplate: Template) =>
    Object.entries(stackTemplate.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined)
      .map(([id, fn]) => [id.replace(/Function[0-9A-F]{8}$/, ''), fn.Properties.ReservedConcurrentExecutions]);

  it('reserves concurrency for the ingest function and the delivery worker only', () => {
    expect(reservations(template)).toEqual([
      ['IngestApiIngest', 100],
      ['OutboundDeliveryWorker', 20],
    ]);
  });

  it('caps the delivery worker through its queue event source, within its reservation', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId('AWS::Lambda::Function', /^OutboundDeliveryWorker/) },
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    const configured = Template.fromStack(buildStack(undefined, { outbound: { workerReservedConcurrency: 40, workerMaxConcurrency: 30 } }));
    expect(reservations(configured)).toContainEqual(['OutboundDeliveryWorker', 40]);
    configured.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 30 } });
    expect(() => buildStack(undefined, { outbound: { workerMaxConcurrency: 50 } })).toThrow(/workerMaxConcurrency 50 is above workerReservedConcurrency 20/);
  });

  it('caps the worker through its queue event source instead of a reservation', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId('AWS::Lambda::Function', /^InboundPipelineWorker/) },
      ScalingConfig: { MaximumConcurrency: 50 },
    });
  });

  it('turns the ingest reservation off with false and refuses 0', () => {
    const unreserved = Template.fromStack(buildStack(undefined, { limits: { ingestReservedConcurrency: false } }));
    expect(reservations(unreserved)).toEqual([['OutboundDeliveryWorker', 20]]);
    expect(() => buildStack(undefined, { limits: { ingestReservedConcurrency: 0 } })).toThrow(/IngestApi\/Ingest: reservedConcurrency must be an integer of at least 1/);
  });

  it('reserves nothing at all when both reservations are off, for accounts whose quota cannot spare any', () => {
    const unreserved = Template.fromStack(buildStack(undefined, { limits: { ingestReservedConcurrency: false }, outbound: { workerReservedConcurrency: false } }));
    unreserved.resourcePropertiesCountIs('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.anyValue() }, 0);
  });
});

describe('alarms', () => {
  it('counts webhook requests refused with 401 from the ingest log group, per stack', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logicalId('AWS::Logs::LogGroup', /^IngestApiIngestLogs/) },
      FilterPattern: Match.stringLikeRegexp('\\$\\.message = "request refused".*\\$\\.status = 401'),
      MetricTransformations: [{ MetricNamespace: 'Hookhub/AbuseTest', MetricName: 'VerificationFailures', MetricValue: '1' }],
    });
  });

  it('alarms on verification failures', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Hookhub/AbuseTest',
      MetricName: 'VerificationFailures',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 20,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms on 5xx answers of the HTTP API', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalId('AWS::ApiGatewayV2::Api', /^IngestApiHttpApi/) } }],
      Statistic: 'Sum',
      Threshold: 5,
    });
  });

  it('alarms when a worker invocation fails as a whole', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId('AWS::Lambda::Function', /^InboundPipelineWorker/) } }],
      Threshold: 1,
    });
  });
});

describe('queues', () => {
  it('state the message size limit the code relies on, on the inbound and delivery queues and their DLQs', () => {
    const sizes = Object.fromEntries(
      Object.entries(template.findResources('AWS::SQS::Queue')).map(([id, queue]) => [id.replace(/[0-9A-F]{8}$/, ''), queue.Properties.MaximumMessageSize]),
    );
    expect(sizes).toEqual({
      InboundPipelineQueue: INBOUND_QUEUE.maxMessageBytes,
      InboundPipelineDeadLetterQueue: INBOUND_QUEUE.maxMessageBytes,
      OutboundDeliveryQueue: DELIVERY_QUEUE.maxMessageBytes,
      OutboundDeliveryDeadLetterQueue: DELIVERY_QUEUE.maxMessageBytes,
    });
  });
});

describe('refused at synth because it cannot work on AWS', () => {
  it('a signed source without secret.secretName, naming the source and the field', () => {
    const localOnly = { ...github, secret: { env: 'GITHUB_WEBHOOK_SECRET' } };
    expect(() => buildStack([demo, localOnly])).toThrow(/source 'github' \(scheme 'hmac'\) has no secret\.secretName/);
  });

  it('every problem at once: an unregistered processor and a name Secrets Manager refuses', () => {
    const sources = [{ ...demo, processor: 'no-such-step' }, { ...github, secret: { secretName: 'hookhub sources github' } }];
    expect(() => buildStack(sources)).toThrow(
      /source 'demo': processor 'no-such-step' is not registered[\s\S]*source 'github': secret\.secretName 'hookhub sources github' is not a Secrets Manager name/,
    );
  });

  it('a retention the Lambdas refuse at cold start', () => {
    expect(() => buildStack(undefined, { retentionDays: 0 })).toThrow(/retentionDays 0: .*HOOKHUB_RETENTION_DAYS must be an integer from 1 to 3650/);
  });

  it('a stack name too long for the inbound queue name', () => {
    expect(() => buildStack(undefined, {}, `Hookhub${'x'.repeat(70)}`)).toThrow(/SQS allows 80 characters \(use a stack name of at most 72\)/);
  });

  it('a stack name too long for the delivery queue name', () => {
    expect(() => buildStack(undefined, {}, `Hookhub${'x'.repeat(65)}`)).toThrow(/the delivery queue is named .* SQS allows 80 characters \(use a stack name of at most 71\)/);
  });

  it('an outbound retention the Lambdas refuse, and a private target that is not a CIDR', () => {
    expect(() => buildStack(undefined, { outbound: { retentionDays: 1.5 } })).toThrow(/outbound retentionDays must be an integer from 1 to 3650/);
    expect(() => buildStack(undefined, { outbound: { allowPrivateTargets: ['192.168.0.0/33'] } })).toThrow(/allowPrivateTargets: not a CIDR/);
  });

  it('but accepts an insecure source without any secret', () => {
    expect(() => buildStack([{ id: 'open', verification: { scheme: 'none' }, insecure: true }])).not.toThrow();
  });
});
