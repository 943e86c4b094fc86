/**
 * What an operator watches of the sagas: how many are in flight in each state, which transitions happen, how long
 * instances stay in a state before leaving it, how often a saga starts compensating, and which deadlines pass.
 *
 * The in-flight gauge is read from the saga table on each scrape, bounded by a statement timeout so a slow database
 * cannot hold the scrape; if the query fails the gauge is left empty for that scrape (no stale counts) and the failure
 * is reported, while every other metric is still served. Every replica reports the same database-wide count, so
 * dashboards take `max`, not `sum`, across instances.
 */
import { type Provider, Logger } from '@nestjs/common';
import { MetricsRegistry } from '@orderflow/platform';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { SagaObserver, SagaTransition } from '../engine/saga-engine.js';
import { SAGAS_IN_FLIGHT_SQL } from '../store/saga-store.js';

export interface SagaStateCount {
  saga_type: string;
  state: string;
  count: number;
}

/** Long enough for a GROUP BY over the in-flight rows, short against a 10 s scrape timeout. */
export const SAGA_COUNT_TIMEOUT_MS = 2_000;

export class SagaMetrics implements SagaObserver {
  private readonly transitions: Counter<'saga' | 'from' | 'to' | 'event'>;
  private readonly timeInState: Histogram<'saga' | 'state'>;
  private readonly compensations: Counter<'saga'>;
  private readonly deadlines: Counter<'saga' | 'deadline' | 'outcome'>;

  constructor(
    registry: Registry,
    countInFlight: () => Promise<readonly SagaStateCount[]>,
    onCountFailed: (err: Error) => void,
  ) {
    new Gauge({
      name: 'orderflow_sagas',
      help: 'Saga instances not yet completed, by saga and state (database-wide: every replica reports the same)',
      labelNames: ['saga', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        try {
          for (const row of await countInFlight()) this.set({ saga: row.saga_type, state: row.state }, row.count);
        } catch (err) {
          onCountFailed(err as Error);
        }
      },
    });
    this.transitions = new Counter({
      name: 'orderflow_saga_transitions_total',
      help: 'Saga state changes written, by saga, state left, state entered and the event that caused it',
      labelNames: ['saga', 'from', 'to', 'event'],
      registers: [registry],
    });
    this.timeInState = new Histogram({
      name: 'orderflow_saga_step_duration_seconds',
      help: 'Time an instance spent in a state before leaving it, from its last transition (database clock)',
      labelNames: ['saga', 'state'],
      // From a step answered at once to an order waiting days for delivery.
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3_600, 21_600, 86_400, 259_200],
      registers: [registry],
    });
    this.compensations = new Counter({
      name: 'orderflow_saga_compensations_total',
      help: 'Sagas that started compensating: a transition into a compensating state from one that is not',
      labelNames: ['saga'],
      registers: [registry],
    });
    this.deadlines = new Counter({
      name: 'orderflow_saga_deadlines_total',
      help: 'Deadlines that passed while their state still waited, by outcome: retry (the step is asked again) or expired',
      labelNames: ['saga', 'deadline', 'outcome'],
      registers: [registry],
    });
  }

  deadlineFired(saga: string, deadline: string, outcome: 'retry' | 'expired'): void {
    this.deadlines.inc({ saga, deadline, outcome });
  }

  transitioned({ saga, event, from, to, startsCompensation, secondsInFrom }: SagaTransition): void {
    this.transitions.inc({ saga, from, to, event });
    if (secondsInFrom !== undefined) this.timeInState.observe({ saga, state: from }, secondsInFrom);
    if (startsCompensation) this.compensations.inc({ saga });
  }
}

/** Counts in-flight instances in a transaction of its own, so the statement timeout applies to that query alone. */
export function countSagasInFlight(dataSource: DataSource, timeoutMs = SAGA_COUNT_TIMEOUT_MS) {
  return (): Promise<SagaStateCount[]> =>
    dataSource.transaction(async (manager) => {
      await manager.query(`SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}`);
      return manager.query<SagaStateCount[]>(SAGAS_IN_FLIGHT_SQL);
    });
}

/** The service's `SagaMetrics`, registered in its Prometheus registry: add to the providers of the module that runs sagas. */
export const sagaMetricsProvider: Provider = {
  provide: SagaMetrics,
  inject: [MetricsRegistry, DataSource],
  useFactory: (registry: MetricsRegistry, dataSource: DataSource) => {
    const logger = new Logger('SagaMetrics');
    return new SagaMetrics(registry, countSagasInFlight(dataSource), (err) =>
      logger.warn({
        message: 'counting saga instances failed; orderflow_sagas is empty this scrape',
        reason: err.message,
      }),
    );
  },
};
