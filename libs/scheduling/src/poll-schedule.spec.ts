import { describe, expect, it } from 'vitest';
import { nextPollAt, pollInterval, type PollSchedule, pollTimes } from './poll-schedule.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('the poll schedule', () => {
  const carrier: PollSchedule = { firstIntervalMs: 5 * S, maxIntervalMs: H, windowMs: 2 * D };

  it('waits 5 s, 15 s, 1 min, 5 min, 15 min, 1 h, then an hour at a time', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((q) => pollInterval(q, carrier))).toEqual([
      5 * S,
      15 * S,
      M,
      5 * M,
      15 * M,
      H,
      H,
      H,
    ]);
  });

  it('never waits longer than the longest interval', () => {
    const short = { ...carrier, maxIntervalMs: 2 * M };
    expect([1, 2, 3, 4, 9].map((q) => pollInterval(q, short))).toEqual([5 * S, 15 * S, M, 2 * M, 2 * M]);
  });

  it('asks a last time at the end of the window, and not after it', () => {
    const times = pollTimes(carrier);
    expect(times.slice(0, 4)).toEqual([5 * S, 20 * S, 80 * S, 380 * S]);
    expect(times.at(-1)).toBe(2 * D);
    expect(times.every((t, i) => i === 0 || t > times[i - 1])).toBe(true);
    expect(times.length).toBe(6 + Math.ceil((2 * D - (5 * S + 15 * S + M + 5 * M + 15 * M + H)) / H));
  });

  it('ends a window shorter than the first interval with one question at its end', () => {
    expect(pollTimes({ firstIntervalMs: 5 * S, maxIntervalMs: H, windowMs: 2 * S })).toEqual([2 * S]);
  });

  it('counts from the answer, so a late question moves the rest, and from the start for the window', () => {
    const start = new Date('2026-12-01T00:00:00Z');
    const late = new Date(start.getTime() + 10 * M);
    expect(nextPollAt(start, 2, late, carrier)).toEqual(new Date(late.getTime() + 15 * S));
    expect(nextPollAt(start, 9, new Date(start.getTime() + 2 * D - M), carrier)).toEqual(
      new Date(start.getTime() + 2 * D),
    );
    expect(nextPollAt(start, 10, new Date(start.getTime() + 2 * D), carrier)).toBeUndefined();
  });

  it('refuses a question number that is not 1, 2, …', () => {
    expect(() => pollInterval(0, carrier)).toThrow(RangeError);
  });
});
