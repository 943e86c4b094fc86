/**
 * Delivers due saga deadlines: the handler of the scheduler's `saga.deadline` jobs. Each firing is one unit of work:
 * the job is settled (deleted, checked against its lease) first, then the engine applies the deadline's row, so the
 * instance's change, its outgoing messages, its history and the end of the job commit together or not at all.
 * A concurrent change of the instance (SagaConcurrencyConflict), or a lost lease, rolls it all back, and the job
 * stays to be fired again: a deadline fires once, and never after the state it was set for has moved on.
 *
 * One deadline per instance is fired at a time across all replicas (the job's group is the instance).
 */
import type { Messaging } from '@orderflow/messaging';
import type { JobRunner } from '@orderflow/scheduling';
import { type DeadlinePayload, SAGA_DEADLINE_TOPIC, type SagaEngine } from './saga-engine.js';

export interface SagaDeadlineOptions {
  /** Deadlines fired at once per replica. */
  concurrency: number;
}

export function registerSagaDeadlines(
  runner: JobRunner,
  messaging: Messaging,
  engines: readonly SagaEngine<unknown>[],
  options: SagaDeadlineOptions = { concurrency: 8 },
): void {
  const byType = new Map(engines.map((engine) => [engine.definition.type, engine]));
  runner.register<DeadlinePayload>(
    SAGA_DEADLINE_TOPIC,
    async (job, context) => {
      const engine = byType.get(job.payload.sagaType);
      if (!engine) throw new Error(`no saga engine for deadline of saga type "${job.payload.sagaType}"`);
      await messaging.transaction(
        async (uow) => {
          await context.complete(uow.manager);
          await engine.fireDeadline(job.payload, job.id, job.dueAt, uow);
        },
        { correlationId: job.payload.correlationId },
      );
    },
    { concurrency: options.concurrency, perGroup: 1, leaseMs: 60_000 },
  );
}
