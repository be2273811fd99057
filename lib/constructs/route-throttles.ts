/**
 * Per-route throttles on an HTTP API stage. The L2 HttpStage sets only the stage's default route settings; a
 * route's own limits live in the L1 CfnStage's `routeSettings`, keyed by route key (`ANY /hooks/{source}`).
 * API Gateway gives every route without settings of its own the stage default, and a route's own settings replace
 * it (they are not a share of it): each route has its own token bucket.
 */
import { Token } from 'aws-cdk-lib';
import type { CfnRoute, CfnStage, HttpRoute, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';

/** Steady-state requests per second and the bucket size that absorbs short bursts above it. */
export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * Gives each route its own throttle on the stage. Refused at synth: a limit below 1 (the route would answer 429
 * to everything) and a limit above the stage default (the stage default is hookhub's ceiling for any one route).
 */
export function throttleRoutes(stage: HttpStage, routes: readonly HttpRoute[], throttle: RouteThrottle): void {
  const cfnStage = stage.node.defaultChild as CfnStage;
  const routeKeys = routes.map((route) => (route.node.defaultChild as CfnRoute).routeKey);
  const where = `${routeKeys.join(', ')} on ${stage.node.path}`;
  if (!(throttle.rateLimit >= 1) || !(Number.isInteger(throttle.burstLimit) && throttle.burstLimit >= 1)) {
    throw new Error(`throttle of ${where}: rateLimit must be at least 1 and burstLimit an integer of at least 1 (got ${throttle.rateLimit}, ${throttle.burstLimit}); 0 answers 429 to every request`);
  }
  const ceiling = cfnStage.defaultRouteSettings as CfnStage.RouteSettingsProperty | undefined;
  for (const [name, value, max] of [
    ['rateLimit', throttle.rateLimit, ceiling?.throttlingRateLimit],
    ['burstLimit', throttle.burstLimit, ceiling?.throttlingBurstLimit],
  ] as const) {
    if (typeof max === 'number' && !Token.isUnresolved(max) && value > max) {
      throw new Error(`throttle of ${where}: ${name} ${value} is above the stage default of ${max}; raise the stage throttle first`);
    }
  }

  // `RouteSettings` is untyped JSON in CloudFormation, written as is (no camelCase conversion): API Gateway's names.
  const settings = { ...(cfnStage.routeSettings as Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> | undefined) };
  for (const [index, route] of routes.entries()) {
    settings[routeKeys[index]!] = { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit };
    // The stage names the route by key, so CloudFormation must create the route first ("Unable to find Route by
    // key ... within the provided RouteSettings" otherwise).
    stage.node.addDependency(route);
  }
  cfnStage.routeSettings = settings;
}
