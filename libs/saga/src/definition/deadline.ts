/**
 * A deadline: a message the saga schedules to itself, delivered after a delay unless the instance moves on first.
 * It is how a waiting state says how long it waits and what happens then, as a row of the table like any other
 * event: `when(paymentDeadline.expired)…`. A deadline may first fire `retry` a given number of times (each row that
 * handles it re-sends the step and schedules the deadline again), then `expired`.
 *
 * Guarantee (with the engine and libs/scheduling): a scheduled deadline is written in the transaction of the row
 * that scheduled it and cancelled in the transaction of any row that leaves the state, so it fires if and only if
 * the instance is still waiting; it fires once, because the job is settled in the transaction of the row it runs.
 * Deadlines never travel through the broker: their message types are local to the saga and never subscribed.
 */
import { defineEvent, type MessageType } from '@orderflow/contracts';
import { z } from 'zod';
import { markLocal } from './local-events.js';

const deadlineData = z.object({
  deadline: z.string(),
  /** Which firing of the deadline in this state this is: 1, 2, … */
  attempt: z.number().int().min(1),
});
export type DeadlineData = z.infer<typeof deadlineData>;

export interface SagaDeadline {
  readonly name: string;
  /** How long after it is scheduled it fires, unless the engine is configured with another delay for it. */
  readonly delayMs: number;
  /** How many times it fires `retry` before it fires `expired`. */
  readonly retries: number;
  readonly retry: MessageType<typeof deadlineData>;
  readonly expired: MessageType<typeof deadlineData>;
}

/**
 * `deadline('payment', { after: 120_000 })` → a deadline whose `expired` event is `deadline.payment-expired.v1`;
 * with `retries: 3`, `deadline.payment-retry.v1` fires three times first.
 */
export function deadline(name: string, options: { after: number; retries?: number }): SagaDeadline {
  if (!/^[a-z][a-z-]*$/.test(name)) throw new Error(`the deadline name "${name}" is not lower-case-kebab`);
  if (!(Number.isInteger(options.after) && options.after > 0)) throw new Error(`deadline ${name}: after must be > 0`);
  const retries = options.retries ?? 0;
  const retry = defineEvent(
    `deadline.${name}-retry.v1`,
    deadlineData,
    `The ${name} deadline passed; the step may be tried again`,
  );
  const expired = defineEvent(
    `deadline.${name}-expired.v1`,
    deadlineData,
    `The ${name} deadline passed for the last time`,
  );
  markLocal(retry.type);
  markLocal(expired.type);
  return Object.freeze({ name, delayMs: options.after, retries, retry, expired });
}
