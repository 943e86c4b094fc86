/**
 * The durable scheduler as a NestJS module: a JobStore to schedule and cancel jobs in a caller's transaction, the
 * StatusPolls that ask third parties for results due by webhook (status-poll.ts), and a JobRunner that feature
 * modules register their topic handlers with (in onModuleInit) and that starts once the application is up and stops,
 * waiting for its jobs in flight, before the database goes away.
 *
 * Hand-written because it is part of the product's core: the job must commit in the caller's transaction (no
 * queue library does that with PostgreSQL under TypeORM), and claims must be leases shared with other replicas.
 */
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { MetricsRegistry, SERVICE_CONFIG } from '@orderflow/platform';
import { DataSource } from 'typeorm';
import { type Clock, systemClock } from './clock.js';
import { JobRunner } from './job-runner.js';
import { JobStore } from './job-store.js';
import type { SchedulingConfig } from './scheduling-config.js';
import { SchedulingMetrics } from './scheduling-metrics.js';
import { StatusPollMetrics, StatusPolls } from './status-poll.js';

/** The scheduler's clock; tests of a whole module may provide a ManualClock under this token. */
export const SCHEDULER_CLOCK = Symbol('SCHEDULER_CLOCK');

@Module({})
export class SchedulingModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly runner: JobRunner,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulingConfig,
  ) {}

  static forRoot(): DynamicModule {
    return {
      module: SchedulingModule,
      global: true,
      providers: [
        { provide: SCHEDULER_CLOCK, useValue: systemClock },
        { provide: JobStore, inject: [SCHEDULER_CLOCK], useFactory: (clock: Clock) => new JobStore(clock) },
        {
          provide: SchedulingMetrics,
          inject: [MetricsRegistry, JobStore, DataSource],
          useFactory: (registry: MetricsRegistry, store: JobStore, db: DataSource) =>
            new SchedulingMetrics(registry, store, db),
        },
        {
          provide: JobRunner,
          inject: [DataSource, JobStore, SCHEDULER_CLOCK, SchedulingMetrics],
          useFactory: (db: DataSource, store: JobStore, clock: Clock, metrics: SchedulingMetrics) =>
            new JobRunner(db, store, clock, new Logger('Scheduler'), metrics),
        },
        {
          provide: StatusPolls,
          inject: [DataSource, JobStore, SCHEDULER_CLOCK, JobRunner, MetricsRegistry],
          useFactory: (db: DataSource, store: JobStore, clock: Clock, runner: JobRunner, registry: MetricsRegistry) =>
            new StatusPolls(db, store, clock, runner, new StatusPollMetrics(registry), new Logger('StatusPolls')),
        },
      ],
      exports: [SCHEDULER_CLOCK, JobStore, JobRunner, StatusPolls],
    };
  }

  onApplicationBootstrap(): void {
    this.runner.start(this.config.SCHEDULER_POLL_INTERVAL_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
