/**
 * Reconciliation by polling: a result a third party is to report by webhook (a carrier's delivery, a gateway's
 * asynchronous authorisation) is also asked for, on a schedule, until it is known or a window ends. Webhooks get
 * lost — the receiver was down when the sender gave up, the sender dropped it — and nothing else would ever ask.
 *
 * Guarantees: the poll is a durable job (job-store.ts), started in the transaction of the step that awaits the
 * result, so it exists if and only if that step committed, and it survives any restart. The owner applies a result
 * the poll finds in its own transaction and settles the job in that same transaction (`finish`), so a found result is
 * applied once; the webhook path cancels the job in its transaction. Whichever comes first is applied; the other
 * finds the record already changed (the owner's record methods are idempotent) or no job left. When the window ends
 * without a result, the owner's `windowEnded` says so (to the saga, typically), again in the transaction that ends
 * the job. Questions that fail (the third party is unreachable) count as unanswered and the schedule goes on.
 *
 * Names are the caller's: the topic, the key (the owner's record id) and the payload are opaque here.
 */
import { Counter, type Registry } from 'prom-client';
import type { JobRunner } from './job-runner.js';
import type { JobStore, Queryable } from './job-store.js';
import type { Clock } from './clock.js';
import { nextPollAt, type PollSchedule } from './poll-schedule.js';

/** Ends the poll's job in the owner's transaction; throws JobLeaseLost if the job was cancelled or moved meanwhile. */
export type FinishPoll = (tx: Queryable) => Promise<void>;

/**
 * What one question came to: `applied` — the owner found the result and applied it, calling `finish` in that
 * transaction; `pending` — no result yet; `unanswered` — the third party could not be asked (says why).
 */
export type PollAnswer = { outcome: 'applied' } | { outcome: 'pending' } | { outcome: 'unanswered'; reason: string };

interface PollPayload<D> {
  data: D;
  startedAt: string;
  /** The number of the question this run asks (1 is the first). */
  question: number;
}

export type PollOutcome = 'applied' | 'pending' | 'unanswered' | 'window_ended';

export interface PollLogger {
  warn(entry: Record<string, unknown>): void;
}

/** What each poll's questions came to, per topic: how often webhooks are late or lost, and how often polls give up. */
export class StatusPollMetrics {
  private readonly outcomes: Counter<'topic' | 'outcome'>;

  constructor(registry: Registry) {
    this.outcomes = new Counter({
      name: 'orderflow_status_polls_total',
      help:
        'Questions asked of a third party for a result due by webhook, by topic and outcome: applied (found and ' +
        'applied: the webhook was late or lost), pending, unanswered (could not ask), window_ended (given up)',
      labelNames: ['topic', 'outcome'],
      registers: [registry],
    });
  }

  count(topic: string, outcome: PollOutcome): void {
    this.outcomes.inc({ topic, outcome });
  }
}

/** One kind of poll, as the steps that start it and the webhooks that cancel it see it. */
export class StatusPoll<D> {
  constructor(
    readonly topic: string,
    readonly schedule: PollSchedule,
    private readonly store: JobStore,
    private readonly clock: Clock,
  ) {}

  /** Starts (or restarts) the poll of `key` in the caller's transaction; the first question comes one interval on. */
  async start(tx: Queryable, key: string, data: D): Promise<void> {
    const now = this.clock.now();
    const payload: PollPayload<D> = { data, startedAt: now.toISOString(), question: 1 };
    const dueAt = nextPollAt(now, 1, now, this.schedule) ?? now;
    await this.store.schedule(tx, { topic: this.topic, key, dueAt, payload });
  }

  /** Cancels the poll of `key` in the caller's transaction (the webhook brought the result); true if there was one. */
  cancel(tx: Queryable, key: string): Promise<boolean> {
    return this.store.unschedule(tx, this.topic, key);
  }
}

/** What the owner of a poll does with each question and with the window's end. */
export interface StatusPollHandler<D> {
  /** Asks the third party about `data` and applies a result it gives, calling `finish` in that transaction. */
  ask(data: D, key: string, finish: FinishPoll): Promise<PollAnswer>;
  /** The window ended without a result: record and tell whoever waits, calling `finish` in that transaction. */
  windowEnded(data: D, key: string, finish: FinishPoll): Promise<void>;
  /** Questions in flight at once in one replica (default 8). */
  concurrency?: number;
  /**
   * How long a question's claim is held (default 30 s): longer than asking and applying take, and the most a killed
   * replica delays the next question.
   */
  leaseMs?: number;
}

/**
 * Defines polls and runs their questions on the durable scheduler. Defining (a topic and its schedule) and answering
 * (the owner's handler) are apart, so the code that starts and cancels a poll need not depend on the code that
 * applies its results.
 */
export class StatusPolls {
  constructor(
    private readonly db: Queryable,
    private readonly store: JobStore,
    private readonly clock: Clock,
    private readonly runner: JobRunner,
    private readonly metrics: StatusPollMetrics,
    private readonly logger: PollLogger,
  ) {}

  define<D>(topic: string, schedule: PollSchedule): StatusPoll<D> {
    if (schedule.firstIntervalMs <= 0 || schedule.maxIntervalMs < schedule.firstIntervalMs || schedule.windowMs <= 0)
      throw new RangeError(`poll ${topic}: intervals and window must be positive, the longest interval the longer`);
    return new StatusPoll<D>(topic, schedule, this.store, this.clock);
  }

  /** Registers the owner's handler of `poll` with the runner (once, in onModuleInit). */
  answer<D>(poll: StatusPoll<D>, handler: StatusPollHandler<D>): void {
    const { topic, schedule } = poll;
    this.runner.register<PollPayload<D>>(
      topic,
      async (job, context) => {
        const { data, question } = job.payload;
        const answer = await handler.ask(data, job.key, (tx) => context.complete(tx));
        if (answer.outcome === 'applied') {
          this.metrics.count(topic, 'applied');
          return;
        }
        if (answer.outcome === 'unanswered') {
          this.logger.warn({
            message: 'status poll could not ask',
            topic,
            key: job.key,
            question,
            reason: answer.reason,
          });
        }
        const next = nextPollAt(new Date(job.payload.startedAt), question + 1, this.clock.now(), schedule);
        if (!next) {
          await handler.windowEnded(data, job.key, (tx) => context.complete(tx));
          this.metrics.count(topic, 'window_ended');
          return;
        }
        await context.retryAt(this.db, next, { ...job.payload, question: question + 1 });
        this.metrics.count(topic, answer.outcome);
      },
      { concurrency: handler.concurrency ?? 8, leaseMs: handler.leaseMs ?? 30_000 },
    );
  }
}
