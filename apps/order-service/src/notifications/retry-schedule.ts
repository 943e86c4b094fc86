/**
 * When a notification is attempted again after a failed attempt. A schedule is a strategy (a custom list of
 * intervals, a fixed interval, or exponential growth) and an optional delay before the first attempt. The default
 * is the payment-platform notify schedule: retries after 4m, 10m, 10m, 1h, 2h, 6h and 15h — 8 attempts over about
 * 25 hours.
 */

import { InvalidDuration, parseDuration as durationMs } from '@orderflow/scheduling';
import { InvalidRequest } from '@orderflow/platform/domain-errors';

export type RetryStrategy =
  | { kind: 'intervals'; intervalsMs: number[] }
  | { kind: 'fixed'; intervalMs: number; retries: number }
  | { kind: 'exponential'; initialMs: number; factor: number; maxMs: number; retries: number };

export interface RetrySchedule {
  strategy: RetryStrategy;
  /** Delay from the status change to the first attempt; 0 sends at once. */
  firstAttemptDelayMs: number;
}

export const DEFAULT_RETRY_INTERVALS = '4m,10m,10m,1h,2h,6h,15h';

/** A merchant's choice of schedule: one for every status, or one per status that overrides it. */
export interface NotificationPolicy {
  default?: RetrySchedule;
  byStatus?: Partial<Record<string, RetrySchedule>>;
}

export class InvalidRetrySchedule extends InvalidRequest {}

const MAX_DELAY_MS = 7 * 86_400_000;
const MAX_RETRIES = 50;

/** "90s", "4m", "1.5h", "250ms" → milliseconds. */
export function parseDuration(text: string): number {
  let ms: number;
  try {
    ms = durationMs(text);
  } catch (err) {
    if (err instanceof InvalidDuration) throw new InvalidRetrySchedule(err.message);
    throw err;
  }
  if (ms > MAX_DELAY_MS) throw new InvalidRetrySchedule(`"${text}" is longer than the longest delay, 7d`);
  return ms;
}

/** "4m,10m,1h" → a custom-list strategy; an empty string means no retries. */
export function parseIntervals(list: string): RetryStrategy {
  const items = list.split(',').filter((s) => s.trim() !== '');
  if (items.length > MAX_RETRIES) throw new InvalidRetrySchedule(`at most ${MAX_RETRIES} retries`);
  return { kind: 'intervals', intervalsMs: items.map(parseDuration) };
}

/** Checks a strategy built from outside input (a merchant's policy); throws InvalidRetrySchedule. */
export function validateStrategy(strategy: RetryStrategy): RetryStrategy {
  const delay = (ms: number, what: string) => {
    if (!Number.isInteger(ms) || ms < 0 || ms > MAX_DELAY_MS)
      throw new InvalidRetrySchedule(`${what} must be between 0 and 7 days`);
  };
  const retries = (n: number) => {
    if (!Number.isInteger(n) || n < 0 || n > MAX_RETRIES)
      throw new InvalidRetrySchedule(`retries must be a whole number from 0 to ${MAX_RETRIES}`);
  };
  switch (strategy.kind) {
    case 'intervals':
      if (strategy.intervalsMs.length > MAX_RETRIES) throw new InvalidRetrySchedule(`at most ${MAX_RETRIES} retries`);
      strategy.intervalsMs.forEach((ms) => delay(ms, 'each interval'));
      break;
    case 'fixed':
      delay(strategy.intervalMs, 'the interval');
      retries(strategy.retries);
      break;
    case 'exponential':
      delay(strategy.initialMs, 'the initial interval');
      delay(strategy.maxMs, 'the longest interval');
      retries(strategy.retries);
      if (!(strategy.factor >= 1 && strategy.factor <= 10))
        throw new InvalidRetrySchedule('the factor must be between 1 and 10');
      if (strategy.maxMs < strategy.initialMs)
        throw new InvalidRetrySchedule('the longest interval must not be shorter than the initial one');
      break;
  }
  return strategy;
}

/** How many attempts the strategy allows in all: the first and every retry. */
export function attemptsAllowed(strategy: RetryStrategy): number {
  return 1 + (strategy.kind === 'intervals' ? strategy.intervalsMs.length : strategy.retries);
}

/** The wait after failed attempt number `attempt` (1-based) before the next, or undefined when none is left. */
export function delayAfterAttempt(strategy: RetryStrategy, attempt: number): number | undefined {
  if (attempt < 1 || attempt >= attemptsAllowed(strategy)) return undefined;
  switch (strategy.kind) {
    case 'intervals':
      return strategy.intervalsMs[attempt - 1];
    case 'fixed':
      return strategy.intervalMs;
    case 'exponential':
      return Math.min(Math.round(strategy.initialMs * strategy.factor ** (attempt - 1)), strategy.maxMs);
  }
}

/** The schedule for a status: the merchant's for that status, else the merchant's default, else the service's. */
export function scheduleFor(
  status: string,
  policy: NotificationPolicy | undefined,
  fallback: RetrySchedule,
): RetrySchedule {
  return policy?.byStatus?.[status] ?? policy?.default ?? fallback;
}
