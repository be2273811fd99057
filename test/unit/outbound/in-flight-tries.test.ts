import { InFlightTries } from '../../../lambdas/core/outbound/in-flight-tries';

describe('InFlightTries', () => {
  let clock = 0;
  const tries = () => new InFlightTries({ initialLimit: 2, maxLimit: 5, slowAfterMs: 1_000 }, () => clock);
  beforeEach(() => (clock = 0));

  it('starts an endpoint at the initial limit and refuses more', () => {
    const limiter = tries();
    expect(limiter.tryStart('ep_a')).toBeDefined();
    expect(limiter.tryStart('ep_a')).toBeDefined();
    expect(limiter.tryStart('ep_a')).toBeUndefined();
    expect(limiter.tryStart('ep_b')).toBeDefined(); // another endpoint has its own window
  });

  it('raises the limit by one per quick success, up to the maximum', () => {
    const limiter = tries();
    for (let round = 0; round < 10; round++) limiter.tryStart('ep_a')!(true);
    expect(limiter.state('ep_a').limit).toBe(5);
    const started = Array.from({ length: 6 }, () => limiter.tryStart('ep_a'));
    expect(started.filter(Boolean)).toHaveLength(5);
  });

  it('halves the limit on a failure or a slow try, never below one', () => {
    const limiter = tries();
    for (let round = 0; round < 3; round++) limiter.tryStart('ep_a')!(true);
    expect(limiter.state('ep_a').limit).toBe(5);
    limiter.tryStart('ep_a')!(false);
    expect(limiter.state('ep_a').limit).toBe(2);
    limiter.tryStart('ep_a')!(false);
    limiter.tryStart('ep_a')!(false);
    expect(limiter.state('ep_a').limit).toBe(1);
  });

  it('starts nothing new while a try has run longer than slowAfterMs', () => {
    const limiter = tries();
    const release = limiter.tryStart('ep_a')!;
    clock = 1_500;
    expect(limiter.tryStart('ep_a')).toBeUndefined();
    release(false);
    expect(limiter.tryStart('ep_a')).toBeDefined();
  });

  it('counts a release once', () => {
    const limiter = tries();
    const release = limiter.tryStart('ep_a')!;
    release(true);
    release(true);
    expect(limiter.state('ep_a')).toEqual({ running: 0, limit: 3 });
  });
});
