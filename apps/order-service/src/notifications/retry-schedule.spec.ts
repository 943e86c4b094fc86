import { describe, expect, it } from 'vitest';
import {
  attemptsAllowed,
  DEFAULT_RETRY_INTERVALS,
  delayAfterAttempt,
  InvalidRetrySchedule,
  parseDuration,
  parseIntervals,
  type RetrySchedule,
  scheduleFor,
  validateStrategy,
} from './retry-schedule.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('the default schedule', () => {
  const strategy = parseIntervals(DEFAULT_RETRY_INTERVALS);

  it('retries after 4m, 10m, 10m, 1h, 2h, 6h and 15h: 8 attempts over about 25 hours', () => {
    expect(attemptsAllowed(strategy)).toBe(8);
    const waits = [1, 2, 3, 4, 5, 6, 7].map((n) => delayAfterAttempt(strategy, n));
    expect(waits).toEqual([4 * MINUTE, 10 * MINUTE, 10 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, 15 * HOUR]);
    const total = waits.reduce((a, b) => a! + b!, 0)!;
    expect(total / HOUR).toBeCloseTo(24.4, 1);
  });

  it('has nothing after the eighth attempt', () => {
    expect(delayAfterAttempt(strategy, 8)).toBeUndefined();
    expect(delayAfterAttempt(strategy, 0)).toBeUndefined();
  });
});

describe('strategies', () => {
  it('fixed: the same wait, a given number of times', () => {
    const fixed = validateStrategy({ kind: 'fixed', intervalMs: 30_000, retries: 3 });
    expect([1, 2, 3, 4].map((n) => delayAfterAttempt(fixed, n))).toEqual([30_000, 30_000, 30_000, undefined]);
    expect(attemptsAllowed(fixed)).toBe(4);
  });

  it('exponential: grows by the factor up to the longest wait', () => {
    const exp = validateStrategy({ kind: 'exponential', initialMs: 1_000, factor: 3, maxMs: 20_000, retries: 5 });
    expect([1, 2, 3, 4, 5, 6].map((n) => delayAfterAttempt(exp, n))).toEqual([
      1_000,
      3_000,
      9_000,
      20_000,
      20_000,
      undefined,
    ]);
  });

  it('a custom list with no entries means one attempt and no retry', () => {
    const none = parseIntervals('');
    expect(attemptsAllowed(none)).toBe(1);
    expect(delayAfterAttempt(none, 1)).toBeUndefined();
  });

  it('refuses what cannot be a schedule', () => {
    for (const bad of [
      { kind: 'fixed', intervalMs: -1, retries: 1 },
      { kind: 'fixed', intervalMs: 1000, retries: 1.5 },
      { kind: 'fixed', intervalMs: 1000, retries: 51 },
      { kind: 'exponential', initialMs: 1000, factor: 0.5, maxMs: 2000, retries: 2 },
      { kind: 'exponential', initialMs: 5000, factor: 2, maxMs: 2000, retries: 2 },
      { kind: 'intervals', intervalsMs: [8 * 24 * HOUR] },
    ] as const) {
      expect(() => validateStrategy(bad as never)).toThrow(InvalidRetrySchedule);
    }
  });
});

describe('durations', () => {
  it('reads ms, s, m, h and d', () => {
    expect(['250ms', '30s', '4m', '1.5h', '1d'].map(parseDuration)).toEqual([
      250,
      30_000,
      4 * MINUTE,
      90 * MINUTE,
      24 * HOUR,
    ]);
  });

  it('refuses anything else, naming it', () => {
    for (const bad of ['4', '4 minutes', '-1m', 'm', '8d', ''])
      expect(() => parseDuration(bad)).toThrow(InvalidRetrySchedule);
    expect(() => parseIntervals('4m,soon')).toThrow(/"soon" is not a duration/);
  });
});

describe('which schedule a notification follows', () => {
  const service: RetrySchedule = { strategy: parseIntervals('1m'), firstAttemptDelayMs: 0 };
  const merchantDefault: RetrySchedule = { strategy: parseIntervals('2m'), firstAttemptDelayMs: 0 };
  const forDelivered: RetrySchedule = { strategy: parseIntervals('3m'), firstAttemptDelayMs: 60_000 };

  it("is the merchant's for that status, else the merchant's default, else the service's", () => {
    const policy = { default: merchantDefault, byStatus: { DELIVERED: forDelivered } };
    expect(scheduleFor('DELIVERED', policy, service)).toBe(forDelivered);
    expect(scheduleFor('SHIPPED', policy, service)).toBe(merchantDefault);
    expect(scheduleFor('SHIPPED', { byStatus: { DELIVERED: forDelivered } }, service)).toBe(service);
    expect(scheduleFor('SHIPPED', undefined, service)).toBe(service);
  });
});
