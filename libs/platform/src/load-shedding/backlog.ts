/**
 * Whether a service can take new work, decided from its backlog. A backlog signal is one number the service can read
 * cheaply (how old the oldest unsent message is, how many accepted requests are still unfinished) with a bound: at or
 * past the bound, new work would only wait behind work the service already cannot finish in time, so it is refused
 * and the caller told when to come back. Work already accepted is never refused: finishing it is how the backlog
 * shrinks.
 *
 * Plain functions over values, so the decision can be tested without a clock, a database or a request.
 */

/** One measure of backlog. The service that owns the measure declares it; this library never knows what it means. */
export interface BacklogSignal {
  /** Metric label and the problem detail's `reason`, unit included: `outbox_lag_seconds`, `orders_in_flight`. */
  readonly name: string;
  /** What is measured, in words, for the problem detail: "the oldest unsent outbox message". */
  readonly description: string;
  /** `s` for an age in seconds, empty for a count. */
  readonly unit: 's' | '';
  /** New work is refused while the level is at or past this. */
  readonly bound: number;
  /** The current level. Called in the background, never per request. */
  read(): Promise<number>;
}

export interface BacklogReading {
  readonly signal: string;
  readonly description: string;
  readonly unit: 's' | '';
  readonly level: number;
  readonly bound: number;
}

export type Verdict = { readonly admit: true } | { readonly admit: false; readonly reading: BacklogReading };

export const ADMIT: Verdict = { admit: true };

/**
 * Refuses when any signal is at or past its bound, naming the one furthest past it (relative to its bound), so the
 * reason given is the worst of the backlogs rather than whichever was registered first.
 */
export function judge(readings: readonly BacklogReading[]): Verdict {
  let worst: BacklogReading | undefined;
  for (const reading of readings) {
    if (!(reading.level >= reading.bound)) continue;
    if (!worst || reading.level / reading.bound > worst.level / worst.bound) worst = reading;
  }
  return worst ? { admit: false, reading: worst } : ADMIT;
}

/**
 * Seconds for `Retry-After`: the configured wait, spread over up to half as much again, so that callers refused in
 * the same instant do not all come back in the same instant and refill the backlog at once.
 */
export function retryAfterSeconds(baseSeconds: number, random: () => number = Math.random): number {
  return Math.max(1, Math.ceil(baseSeconds * (1 + random() / 2)));
}

/** The problem detail's sentence: which backlog, its level and its bound. */
export function refusalDetail(reading: BacklogReading): string {
  const level = `${format(reading.level)}${reading.unit && ` ${reading.unit}`}`;
  const bound = `${format(reading.bound)}${reading.unit && ` ${reading.unit}`}`;
  return (
    `Not accepting new work for now: ${reading.description} is at ${level}, at or past its bound of ${bound} ` +
    `(${reading.signal}). Retry after the time in Retry-After.`
  );
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
