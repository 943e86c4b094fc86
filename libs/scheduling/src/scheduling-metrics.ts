import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JobRunnerObserver, RunOutcome } from './job-runner.js';
import type { JobStore, OverdueJobs, Queryable } from './job-store.js';

/** What an operator watches of the scheduler: how late jobs start, how they end, and any backlog no one runs. */
export class SchedulingMetrics implements JobRunnerObserver {
  private readonly lag: Histogram<'topic'>;
  private readonly runs: Counter<'topic' | 'outcome'>;

  constructor(registry: Registry, store: JobStore, db: Queryable) {
    this.lag = new Histogram({
      name: 'orderflow_scheduled_job_lag_seconds',
      help: 'From a job falling due to a runner claiming it',
      labelNames: ['topic'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.runs = new Counter({
      name: 'orderflow_scheduled_job_runs_total',
      help: 'Scheduled job runs by outcome (completed, retried, failed, lease_lost)',
      labelNames: ['topic', 'outcome'],
      registers: [registry],
    });
    let cache: { at: number; value: Promise<OverdueJobs[]> } | undefined;
    const overdue = () => {
      if (!cache || Date.now() - cache.at > 1_000) {
        const value = store.overdue(db);
        value.catch(() => (cache = undefined));
        cache = { at: Date.now(), value };
      }
      // Without its database a scrape still answers, keeping the last levels: the other metrics matter most then.
      return cache.value.catch(() => undefined);
    };
    new Gauge({
      name: 'orderflow_scheduled_jobs_overdue',
      help: 'Jobs due and not claimed by any runner',
      labelNames: ['topic'],
      registers: [registry],
      async collect() {
        const rows = await overdue();
        if (!rows) return;
        this.reset();
        for (const row of rows) this.set({ topic: row.topic }, row.overdue);
      },
    });
    new Gauge({
      name: 'orderflow_scheduled_jobs_oldest_overdue_seconds',
      help: 'How long the oldest due, unclaimed job has waited',
      labelNames: ['topic'],
      registers: [registry],
      async collect() {
        const rows = await overdue();
        if (!rows) return;
        this.reset();
        for (const row of rows) this.set({ topic: row.topic }, row.oldest_seconds);
      },
    });
  }

  claimed(topic: string, lagSeconds: number): void {
    this.lag.observe({ topic }, lagSeconds);
  }

  settled(topic: string, outcome: RunOutcome): void {
    this.runs.inc({ topic, outcome });
  }
}
