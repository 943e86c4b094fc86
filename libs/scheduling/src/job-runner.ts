/**
 * Runs due jobs: one handler per topic, a bounded number of jobs in flight per replica, claims shared among
 * replicas through leases (see job-store.ts). The runner keeps nothing that matters in memory: a job's due time,
 * payload and run count are its row; what is here is only which claims this process is working on now.
 *
 * A handler settles its job in its own transaction, with the state change the job caused: `complete` or `retryAt`
 * through the JobContext. A handler that throws, or returns without settling, has the job put back with a backoff,
 * so a failing job neither spins nor disappears. Stopping waits for the jobs in flight; a process killed instead
 * leaves leases that expire, and the jobs run again elsewhere.
 */
import type { Clock } from './clock.js';
import { type ClaimedJob, JobLeaseLost, type JobStore, type Queryable } from './job-store.js';

export interface JobContext {
  /** Ends the job, in the handler's transaction. */
  complete(tx: Queryable): Promise<void>;
  /** Puts the job back due at `dueAt` (with a new payload if given), in the handler's transaction. */
  retryAt(tx: Queryable, dueAt: Date, payload?: unknown): Promise<void>;
}

export type JobHandler<P = unknown> = (job: ClaimedJob<P>, context: JobContext) => Promise<void>;

export interface TopicOptions {
  /** Jobs of this topic in flight at once in this replica. */
  concurrency: number;
  /** Jobs of one group in flight at once across all replicas. */
  perGroup: number;
  /** How long a claim is held; longer than the handler can take, else another replica runs it too. */
  leaseMs: number;
  /** Delay before a job whose handler failed runs again, by the number of runs so far. */
  backoff: (runs: number) => number;
}

export const DEFAULT_TOPIC_OPTIONS: TopicOptions = {
  concurrency: 8,
  perGroup: 1_000_000,
  leaseMs: 60_000,
  backoff: (runs) => Math.min(1000 * 2 ** Math.min(runs - 1, 16), 300_000),
};

export type RunOutcome = 'completed' | 'retried' | 'failed' | 'lease_lost';

export interface JobRunnerObserver {
  claimed(topic: string, lagSeconds: number): void;
  settled(topic: string, outcome: RunOutcome): void;
}

export interface JobRunnerLogger {
  warn(entry: Record<string, unknown>): void;
  error(entry: Record<string, unknown>): void;
}

interface Topic {
  handler: JobHandler;
  options: TopicOptions;
  inFlight: Set<Promise<void>>;
  pumping?: Promise<void>;
  again: boolean;
}

export class JobRunner {
  private readonly topics = new Map<string, Topic>();
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private started = 0;

  constructor(
    private readonly db: Queryable,
    private readonly store: JobStore,
    private readonly clock: Clock,
    private readonly logger: JobRunnerLogger,
    private readonly observer?: JobRunnerObserver,
  ) {}

  register<P>(topic: string, handler: JobHandler<P>, options: Partial<TopicOptions> = {}): void {
    if (this.topics.has(topic)) throw new Error(`a handler for scheduled topic ${topic} is already registered`);
    this.topics.set(topic, {
      handler: handler as JobHandler,
      options: { ...DEFAULT_TOPIC_OPTIONS, ...options },
      inFlight: new Set(),
      again: false,
    });
  }

  /** Polls every `intervalMs`; `wake` runs a topic sooner. */
  start(intervalMs: number): void {
    this.stopping = false;
    this.timer = setInterval(() => {
      for (const topic of this.topics.keys()) this.wake(topic);
    }, intervalMs);
    this.timer.unref();
    for (const topic of this.topics.keys()) this.wake(topic);
  }

  /** Stops claiming and waits for the jobs in flight to settle. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    for (const topic of this.topics.values()) {
      await topic.pumping;
      await Promise.allSettled([...topic.inFlight]);
    }
  }

  /** Looks for due jobs of `topic` now (e.g. right after committing one that is due at once). */
  wake(topic: string): void {
    const t = this.topics.get(topic);
    if (!t || this.stopping) return;
    if (t.pumping) {
      t.again = true;
      return;
    }
    t.pumping = this.pump(topic, t).finally(() => {
      t.pumping = undefined;
      if (t.again) {
        t.again = false;
        this.wake(topic);
      }
    });
  }

  /**
   * Runs every job of `topic` due by the clock, including any that become due while it runs, and returns how many
   * ran. For tests driving a ManualClock: advance, then drain.
   */
  async drain(topic: string): Promise<number> {
    const t = this.topics.get(topic);
    if (!t) throw new Error(`no handler for scheduled topic ${topic}`);
    const before = this.started;
    for (;;) {
      await t.pumping;
      const jobs = await this.claim(topic, t, t.options.concurrency);
      // A pump woken by a job that just ended may be claiming right now: what it claims is part of this drain.
      if (jobs.length === 0 && t.inFlight.size === 0 && !t.pumping) return this.started - before;
      for (const job of jobs) this.track(topic, t, job);
      if (t.inFlight.size > 0) await Promise.race([...t.inFlight]);
    }
  }

  private async pump(topic: string, t: Topic): Promise<void> {
    while (!this.stopping) {
      const free = t.options.concurrency - t.inFlight.size;
      if (free <= 0) return;
      let jobs: ClaimedJob[];
      try {
        jobs = await this.claim(topic, t, free);
      } catch (err) {
        // The database is away; the next poll tries again, and nothing was claimed.
        this.logger.warn({ message: 'claiming scheduled jobs failed', topic, reason: (err as Error).message });
        return;
      }
      for (const job of jobs) this.track(topic, t, job);
      if (jobs.length < free) return;
    }
  }

  private async claim(topic: string, t: Topic, limit: number): Promise<ClaimedJob[]> {
    const jobs = await this.store.claim(this.db, topic, {
      limit,
      perGroup: t.options.perGroup,
      leaseMs: t.options.leaseMs,
    });
    const now = this.clock.now().getTime();
    for (const job of jobs) this.observer?.claimed(topic, Math.max(0, (now - job.dueAt.getTime()) / 1000));
    return jobs;
  }

  private track(topic: string, t: Topic, job: ClaimedJob): void {
    this.started += 1;
    const running: Promise<void> = this.run(t, job).finally(() => {
      t.inFlight.delete(running);
      this.wake(topic);
    });
    t.inFlight.add(running);
  }

  private async run(t: Topic, job: ClaimedJob): Promise<void> {
    let settled: RunOutcome | undefined;
    const context: JobContext = {
      complete: async (tx) => {
        await this.store.complete(tx, job);
        settled = 'completed';
      },
      retryAt: async (tx, dueAt, payload) => {
        await this.store.retryAt(tx, job, dueAt, payload);
        settled = 'retried';
      },
    };
    try {
      await t.handler(job, context);
      if (settled) {
        this.observer?.settled(job.topic, settled);
        return;
      }
      this.logger.error({ message: 'a scheduled job handler returned without settling its job', topic: job.topic });
    } catch (err) {
      if (err instanceof JobLeaseLost) {
        this.observer?.settled(job.topic, 'lease_lost');
        return;
      }
      this.logger.warn({
        message: 'scheduled job failed; it will run again',
        topic: job.topic,
        key: job.key,
        runs: job.runs,
        reason: (err as Error).message,
      });
    }
    this.observer?.settled(job.topic, 'failed');
    await this.putBack(t, job);
  }

  private async putBack(t: Topic, job: ClaimedJob): Promise<void> {
    const dueAt = new Date(this.clock.now().getTime() + t.options.backoff(job.runs));
    try {
      await this.store.retryAt(this.db, job, dueAt);
    } catch (err) {
      // Lost (someone rescheduled it) or the database is away: either way the lease expires and the row decides.
      if (!(err instanceof JobLeaseLost))
        this.logger.warn({
          message: 'could not put a failed job back',
          topic: job.topic,
          reason: (err as Error).message,
        });
    }
  }
}
