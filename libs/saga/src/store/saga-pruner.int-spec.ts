// Saga retention against real PostgreSQL: which instances the pruner deletes, with their history, and which it keeps.
import { randomUUID } from 'node:crypto';
import { MessagingRig, waitFor } from '@orderflow/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPrunedSagas, SagaPruner, type SagaPrunerOptions } from './saga-pruner.js';
import { SagaInstancesByCompletion1764300000000 } from './saga-retention-index.migration.js';
import { CreateSagaTables1763910000000 } from './saga-tables.migration.js';
import { SagaStateEnteredAt1764400000000 } from './saga-state-entered.migration.js';
import { SagaHistoryStepRows1764500000000 } from './saga-history-steps.migration.js';
import { SagaCompositeArrivals1765200000000 } from './saga-arrivals.migration.js';

let rig: MessagingRig;
beforeAll(async () => {
  rig = await MessagingRig.create([
    CreateSagaTables1763910000000,
    SagaInstancesByCompletion1764300000000,
    SagaStateEnteredAt1764400000000,
    SagaHistoryStepRows1764500000000,
    SagaCompositeArrivals1765200000000,
  ]);
});
afterAll(async () => {
  await rig.dispose();
});

const DAY_MS = 86_400_000;
// Every test prunes with the same retention, so a test's pruner finds nothing of another test's left to delete.
const RETENTION_MS = DAY_MS;

// Each test its own saga type: the pruner sweeps the whole table, assertions look at that test's rows only.
const freshType = () => `prune-${randomUUID().slice(0, 8)}`;

const pruner = (options: Partial<SagaPrunerOptions> = {}) =>
  new SagaPruner(rig.dataSource, {
    retentionMs: RETENTION_MS,
    batchSize: 100,
    intervalMs: 60_000,
    onError: (err) => {
      throw err;
    },
    ...options,
  });

/**
 * `count` instances in `state` that last changed `ageMs` ago (completed then if `Final`), each with three history
 * rows; returns their correlation ids.
 */
async function seed(sagaType: string, state: string, ageMs: number, count = 1): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await rig.dataSource.query(
    `WITH at AS (SELECT clock_timestamp() - $4::float8 * interval '1 millisecond' AS t),
     instances AS (
       INSERT INTO saga_instances (saga_type, correlation_id, state, data, version, created_at, updated_at, completed_at)
       SELECT $1, id, $3::text, '{}', 3, at.t - interval '1 hour', at.t, CASE WHEN $3::text = 'Final' THEN at.t END
         FROM unnest($2::uuid[]) AS id, at
       RETURNING correlation_id),
     history AS (
       INSERT INTO saga_history (saga_type, correlation_id, at, records)
       SELECT $1, id, at.t, jsonb_build_array(jsonb_build_object(
                'kind', 'transition', 'message_type', 'test.step.v1', 'to_state', $3::text, 'detail', '{}'::jsonb))
         FROM unnest($2::uuid[]) AS id, at, generate_series(1, 3)
       RETURNING id)
     SELECT (SELECT count(*) FROM instances) + (SELECT count(*) FROM history) AS written`,
    [sagaType, ids, state, ageMs],
  );
  return ids;
}

/** What is left of `sagaType`: instances and history rows per correlation id. */
async function remaining(sagaType: string): Promise<{ instances: string[]; history: Record<string, number> }> {
  const instances = await rig.dataSource.query<{ correlation_id: string }[]>(
    'SELECT correlation_id FROM saga_instances WHERE saga_type = $1 ORDER BY correlation_id',
    [sagaType],
  );
  const history = await rig.dataSource.query<{ correlation_id: string; count: number }[]>(
    'SELECT correlation_id, count(*)::int AS count FROM saga_history WHERE saga_type = $1 GROUP BY correlation_id',
    [sagaType],
  );
  return {
    instances: instances.map((r) => r.correlation_id),
    history: Object.fromEntries(history.map((r) => [r.correlation_id, r.count])),
  };
}

const sorted = (ids: string[]) => [...ids].sort();

describe('SagaPruner', () => {
  it('deletes a Final instance older than the retention, with all its history, and counts it', async () => {
    const sagaType = freshType();
    const [old] = await seed(sagaType, 'Final', 2 * DAY_MS);
    const registry = new Registry();

    const pruned = await pruner({ onPruned: countPrunedSagas(registry) }).pruneOnce();

    expect(pruned).toBeGreaterThanOrEqual(1);
    expect(await remaining(sagaType)).toEqual({ instances: [], history: {} });
    expect(await rig.dataSource.query('SELECT 1 FROM saga_history WHERE correlation_id = $1', [old])).toEqual([]);
    const metric = await registry.getSingleMetric('orderflow_saga_instances_pruned_total')?.get();
    expect(metric?.values).toEqual([{ labels: { saga: sagaType }, value: 1 }]);
  });

  it('keeps a Final instance still within the retention, with its history', async () => {
    const sagaType = freshType();
    const [recent] = await seed(sagaType, 'Final', DAY_MS / 24);

    await pruner().pruneOnce();

    expect(await remaining(sagaType)).toEqual({ instances: [recent], history: { [recent]: 3 } });
  });

  it('keeps instances that are not Final, running or parked, however old, with their history', async () => {
    const sagaType = freshType();
    const [running] = await seed(sagaType, 'AwaitingPayment', 400 * DAY_MS);
    const [parked] = await seed(sagaType, 'NeedsAttention', 400 * DAY_MS);
    const [finished] = await seed(sagaType, 'Final', 400 * DAY_MS);

    await pruner({ retentionMs: 0 }).pruneOnce();

    const left = await remaining(sagaType);
    expect(left.instances).toEqual(sorted([running, parked]));
    expect(left.history).toEqual({ [running]: 3, [parked]: 3 });
    expect(left.instances).not.toContain(finished);
  });

  it('prunes more instances than one batch holds, batch after batch, until none is left', async () => {
    const sagaType = freshType();
    await seed(sagaType, 'Final', 2 * DAY_MS, 23);
    const perBatch: number[] = [];

    const pruned = await pruner({
      batchSize: 5,
      onPruned: (type, n) => type === sagaType && perBatch.push(n),
    }).pruneOnce();

    expect(pruned).toBe(23);
    expect(perBatch).toEqual([5, 5, 5, 5, 3]);
    expect(await remaining(sagaType)).toEqual({ instances: [], history: {} });
  });

  it('shares the work between two pruners running at once: each instance deleted once, none left', async () => {
    const sagaType = freshType();
    await seed(sagaType, 'Final', 2 * DAY_MS, 300);
    const counted = [0, 0];
    const [first, second] = [0, 1].map((i) =>
      pruner({ batchSize: 10, onPruned: (type, n) => type === sagaType && (counted[i] += n) }),
    );

    const totals = await Promise.all([first.pruneOnce(), second.pruneOnce()]);

    expect(counted[0] + counted[1]).toBe(300);
    expect(totals[0] + totals[1]).toBe(300);
    expect(await remaining(sagaType)).toEqual({ instances: [], history: {} });
  });

  it('prunes on its interval once started; stop ends the run after its current batch and waits for it', async () => {
    const sagaType = freshType();
    await seed(sagaType, 'Final', 2 * DAY_MS, 200);
    const errors: Error[] = [];
    let counted = 0;
    const running = pruner({
      batchSize: 2,
      intervalMs: 10,
      onError: (err) => errors.push(err),
      onPruned: (type, n) => type === sagaType && (counted += n),
    });

    running.start();
    await waitFor(() => counted > 0, { what: 'a first batch' });
    await running.stop();
    const left = (await remaining(sagaType)).instances.length;
    // Nothing can be shown not to happen by polling: give a statement still in flight time to commit, then look again.
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(left).toBeGreaterThan(0);
    expect((await remaining(sagaType)).instances).toHaveLength(left);
    expect(counted + left).toBe(200);
    expect(errors).toEqual([]);
  });
});
