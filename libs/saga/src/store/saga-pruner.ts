/**
 * Retention of finished sagas: instances that reached `Final` more than `retentionMs` ago are deleted with their
 * history, in small batches (see docs/adr/0004), so pruning holds no long locks and leaves autovacuum a steady
 * trickle instead of a mass delete.
 *
 * Guarantee: only finished instances go. Running instances, and parked ones waiting for an operator, are kept however
 * old they are, and an instance never loses its history while it is kept (both go in the same statement). Any replica
 * may run it: concurrent runs skip each other's locked rows, so they share the work and delete each row once. A prune
 * that fails half-way has committed whole batches only; the next run carries on from what is left.
 *
 * Not covered: an event that arrives for an instance while it is being pruned is recorded in a history row of its own,
 * which then outlives the instance, like the history of an order the saga never started; such rows are not pruned.
 */
import { BatchedMaintenance } from '@orderflow/platform';
import { Counter, type Registry } from 'prom-client';
import { type SqlExecutor, SagaStore } from './saga-store.js';

export interface SagaPrunerOptions {
  /** How long a finished instance is kept after it reached `Final`; 0 prunes it on the next run. */
  readonly retentionMs: number;
  readonly batchSize: number;
  readonly intervalMs: number;
  /** A run failed; the next one retries from what is left. */
  readonly onError: (err: Error) => void;
  /** A batch deleted `count` instances of `sagaType` (for metrics). */
  readonly onPruned?: (sagaType: string, count: number) => void;
}

export class SagaPruner {
  private readonly store: SagaStore;
  private readonly maintenance: BatchedMaintenance;

  /** `sql` runs each statement in its own transaction: the data source, not a unit of work's manager. */
  constructor(
    sql: SqlExecutor,
    private readonly options: SagaPrunerOptions,
  ) {
    this.store = new SagaStore(sql);
    this.maintenance = new BatchedMaintenance(() => this.pruneOnce(), options.intervalMs, options.onError);
  }

  start(): void {
    this.maintenance.start();
  }

  /** Stops the timer and waits for a run in progress, which ends after its current batch. */
  async stop(): Promise<void> {
    await this.maintenance.stop();
  }

  /** Prunes until a batch comes back short; returns how many instances went. */
  pruneOnce(): Promise<number> {
    const { retentionMs, batchSize, onPruned } = this.options;
    return this.maintenance.batches(async () => {
      let batch = 0;
      for (const { sagaType, count } of await this.store.pruneCompleted(retentionMs, batchSize)) {
        batch += count;
        onPruned?.(sagaType, count);
      }
      return batch;
    }, batchSize);
  }
}

/** `orderflow_saga_instances_pruned_total{saga}` in `registry`, as the pruner's `onPruned`. */
export function countPrunedSagas(registry: Registry): (sagaType: string, count: number) => void {
  const pruned = new Counter({
    name: 'orderflow_saga_instances_pruned_total',
    help: 'Finished saga instances deleted with their history after the retention period, by saga',
    labelNames: ['saga'],
    registers: [registry],
  });
  return (saga, count) => pruned.inc({ saga }, count);
}
