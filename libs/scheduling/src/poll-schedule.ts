/**
 * When to ask a third party again for a result it was to report by webhook: soon at first (most results come in
 * seconds), then ever less often, never more than `maxIntervalMs` apart, and not past the window. A pure function of
 * the poll's settings, its start and how many times it has asked, so the times survive a restart (they are
 * recomputed from the job's payload) and a unit test can list them.
 */

export interface PollSchedule {
  /** The wait before the first question, and the unit the later waits grow from. */
  firstIntervalMs: number;
  /** The longest wait between two questions. */
  maxIntervalMs: number;
  /** From the start of the poll to its last question; a result not known by then is given up. */
  windowMs: number;
}

/** Each wait as a multiple of the first: 5 s → 15 s → 1 min → 5 min → 15 min → 1 h, and so on at the last step. */
const GROWTH = [1, 3, 12, 60, 180, 720] as const;

/** The wait before question number `question` (1 is the first), capped at maxIntervalMs. */
export function pollInterval(question: number, schedule: PollSchedule): number {
  if (!Number.isInteger(question) || question < 1) throw new RangeError(`question ${question} is not 1, 2, …`);
  const step = GROWTH[Math.min(question, GROWTH.length) - 1];
  return Math.min(schedule.firstIntervalMs * step, schedule.maxIntervalMs);
}

/**
 * When to ask question number `question` of a poll started at `startedAt`, given that the previous one was answered
 * at `now`: after its interval, but never after the window's end, so the window's end always gets a last question.
 * Undefined once the window's end has been asked about: the poll is over.
 */
export function nextPollAt(startedAt: Date, question: number, now: Date, schedule: PollSchedule): Date | undefined {
  const end = startedAt.getTime() + schedule.windowMs;
  if (now.getTime() >= end) return undefined;
  return new Date(Math.min(now.getTime() + pollInterval(question, schedule), end));
}

/** Every question's time, as offsets from the start, when each is answered at once: for docs, tests and operators. */
export function pollTimes(schedule: PollSchedule): number[] {
  const start = new Date(0);
  const times: number[] = [];
  for (let at = nextPollAt(start, 1, start, schedule); at; at = nextPollAt(start, times.length + 1, at, schedule)) {
    times.push(at.getTime());
  }
  return times;
}
