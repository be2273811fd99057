import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  MAX_RETRY_AFTER_SECONDS,
  nextRetryDelaySeconds,
  parseRetryAfter,
} from '../../../lambdas/core/outbound/retry-schedule';

/** random() = 0.5 is no jitter; 0 is the earliest (-20%), just under 1 the latest (+20%). */
const NO_JITTER = () => 0.5;
const EARLIEST = () => 0;
const LATEST = () => 0.999999;

describe('nextRetryDelaySeconds', () => {
  const schedule = DEFAULT_RETRY_SCHEDULE_SECONDS;

  it('follows the schedule: the delay after try n is entry n', () => {
    const delays = schedule.map((_, index) => nextRetryDelaySeconds({ schedule, attemptNumber: index + 1, random: NO_JITTER }));
    expect(delays).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
  });

  it('has no try left after the last entry', () => {
    expect(nextRetryDelaySeconds({ schedule, attemptNumber: schedule.length + 1, random: NO_JITTER })).toBeUndefined();
    expect(nextRetryDelaySeconds({ schedule: [10], attemptNumber: 2, random: NO_JITTER })).toBeUndefined();
    expect(nextRetryDelaySeconds({ schedule: [], attemptNumber: 1, random: NO_JITTER })).toBeUndefined();
  });

  it('jitters by ±20%, rounded', () => {
    expect(nextRetryDelaySeconds({ schedule: [300], attemptNumber: 1, random: EARLIEST })).toBe(240);
    expect(nextRetryDelaySeconds({ schedule: [300], attemptNumber: 1, random: LATEST })).toBe(360);
    expect(nextRetryDelaySeconds({ schedule: [300], attemptNumber: 1, random: () => 0.25 })).toBe(270);
  });

  it('waits at least one second', () => {
    expect(nextRetryDelaySeconds({ schedule: [1], attemptNumber: 1, random: EARLIEST })).toBe(1);
  });

  it('waits as long as Retry-After asks when that is longer than the schedule', () => {
    expect(nextRetryDelaySeconds({ schedule, attemptNumber: 1, retryAfterSeconds: 120, random: LATEST })).toBe(120);
    // Longer than twice the scheduled 5 s: a 1×–2× clamp would retry after 10 s, sooner than the server asked.
    expect(nextRetryDelaySeconds({ schedule, attemptNumber: 1, retryAfterSeconds: 3600, random: NO_JITTER })).toBe(3600);
  });

  it('caps Retry-After at MAX_RETRY_AFTER_SECONDS', () => {
    expect(MAX_RETRY_AFTER_SECONDS).toBe(6 * 3600);
    const delay = nextRetryDelaySeconds({ schedule, attemptNumber: 1, retryAfterSeconds: 86_400 * 365, random: NO_JITTER });
    expect(delay).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it('never shortens the schedule for a shorter Retry-After (nor for the cap)', () => {
    expect(nextRetryDelaySeconds({ schedule, attemptNumber: 2, retryAfterSeconds: 1, random: EARLIEST })).toBe(240);
    expect(nextRetryDelaySeconds({ schedule, attemptNumber: 6, retryAfterSeconds: 86_400, random: NO_JITTER })).toBe(36000);
    expect(nextRetryDelaySeconds({ schedule, attemptNumber: 2, retryAfterSeconds: 0, random: NO_JITTER })).toBe(300);
  });

  it('still ends the schedule when the server asks for a retry', () => {
    expect(nextRetryDelaySeconds({ schedule, attemptNumber: 8, retryAfterSeconds: 5, random: NO_JITTER })).toBeUndefined();
  });

  it('refuses an attempt number that is not a 1-based count', () => {
    expect(() => nextRetryDelaySeconds({ schedule, attemptNumber: 0, random: NO_JITTER })).toThrow(RangeError);
    expect(() => nextRetryDelaySeconds({ schedule, attemptNumber: 1.5, random: NO_JITTER })).toThrow(RangeError);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2015, 9, 21, 7, 28, 0);

  it.each([
    ['120', 120],
    [' 7 ', 7],
    ['0', 0],
    ['-5', 0],
    ['1.5', 2],
  ])('reads delta-seconds %p as %p', (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds);
  });

  it.each([
    ['IMF-fixdate', 'Wed, 21 Oct 2015 07:30:00 GMT'],
    ['RFC 850', 'Wednesday, 21-Oct-15 07:30:00 GMT'],
    ['asctime', 'Wed Oct 21 07:30:00 2015'],
  ])('reads an HTTP-date (%s) as the seconds until then', (_form, value) => {
    expect(parseRetryAfter(value, now)).toBe(120);
  });

  it('reads the zone-less asctime form as GMT whatever the local time zone', () => {
    // Date.parse reads a zone-less date in the process's zone, which is fixed at start: so run the module in a
    // child process in New York (jest's sandboxed process.env cannot change the zone of this one).
    const source = readFileSync(join(__dirname, '../../../lambdas/core/outbound/retry-schedule.ts'), 'utf8');
    const { code } = transformSync(source, { loader: 'ts', format: 'cjs' });
    const probe = `const loaded = { exports: {} }; (function (module, exports) { ${code} })(loaded, loaded.exports);
      process.stdout.write(String(loaded.exports.parseRetryAfter('Wed Oct 21 07:30:00 2015', ${now})));`;
    const child = spawnSync(process.execPath, ['-e', probe], { env: { TZ: 'America/New_York' }, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('120');
  });

  it('rounds a date part of a second ahead up, and reads a past date as 0', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:01 GMT', now - 500)).toBe(2);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
  });

  it.each([undefined, '', 'soon', '5 apples', '0x10', '1e3', 'Wed, 99 Foo 2015 07:30:00 GMT'])('is undefined for %p', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
