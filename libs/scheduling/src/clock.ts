/**
 * The time the scheduler reads. Every comparison of "is this job due" and every lease goes through one clock, so
 * a test can move time forward by hours in a call (as Temporal's time skipping does) and see exactly the jobs that
 * would then be due, without waiting for them.
 *
 * In production this is the process's clock. Replicas' clocks differ by NTP's milliseconds, far below the
 * seconds-to-hours granularity of anything scheduled here and the minute-long leases; see docs/adr/0009.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: for tests of deadlines and retry schedules. */
export class ManualClock implements Clock {
  private at: number;

  constructor(start: Date = new Date()) {
    this.at = start.getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  advance(ms: number): Date {
    if (ms < 0) throw new Error('a clock does not go backwards');
    this.at += ms;
    return this.now();
  }

  set(to: Date): void {
    if (to.getTime() < this.at) throw new Error('a clock does not go backwards');
    this.at = to.getTime();
  }
}
