import { describe, expect, it } from 'vitest';
import { type BacklogReading, judge, refusalDetail, retryAfterSeconds } from './backlog.js';

const lag = (level: number): BacklogReading => ({
  signal: 'outbox_lag_seconds',
  description: 'the oldest unsent outbox message',
  unit: 's',
  level,
  bound: 10,
});
const inFlight = (level: number): BacklogReading => ({
  signal: 'orders_in_flight',
  description: 'orders in flight',
  unit: '',
  level,
  bound: 2000,
});

describe('judge', () => {
  it('admits when every signal is under its bound, or when there are none', () => {
    expect(judge([lag(9.9), inFlight(1999)])).toEqual({ admit: true });
    expect(judge([])).toEqual({ admit: true });
  });

  it('refuses at the bound, not only past it: a bound of N means at most N', () => {
    expect(judge([inFlight(2000)])).toEqual({ admit: false, reading: inFlight(2000) });
    expect(judge([lag(10)])).toMatchObject({ admit: false });
  });

  it('names the signal furthest past its bound, relative to the bound', () => {
    expect(judge([lag(11), inFlight(3000)])).toEqual({ admit: false, reading: inFlight(3000) });
    expect(judge([inFlight(2001), lag(30)])).toEqual({ admit: false, reading: lag(30) });
  });

  it('admits on a level that is not a number rather than refusing everything on a bad reading', () => {
    expect(judge([lag(Number.NaN)])).toEqual({ admit: true });
  });
});

describe('retryAfterSeconds', () => {
  it('spreads the configured wait over up to half as much again, in whole seconds', () => {
    expect(retryAfterSeconds(4, () => 0)).toBe(4);
    expect(retryAfterSeconds(4, () => 0.5)).toBe(5);
    expect(retryAfterSeconds(4, () => 0.999)).toBe(6);
  });

  it('is never less than a second', () => {
    expect(retryAfterSeconds(0, () => 0)).toBe(1);
  });
});

describe('refusalDetail', () => {
  it('says which backlog, its level against its bound, and when to come back', () => {
    expect(refusalDetail(lag(12.345))).toBe(
      'Not accepting new work for now: the oldest unsent outbox message is at 12.3 s, at or past its bound of 10 s ' +
        '(outbox_lag_seconds). Retry after the time in Retry-After.',
    );
    expect(refusalDetail(inFlight(2001))).toContain('orders in flight is at 2001, at or past its bound of 2000 (');
  });
});
