// The saga tables' migration on a database whose earlier migration already created `saga_instances` keyed by
// correlation id alone (the saga orchestrator's first migration), and back.
import { randomUUID } from 'node:crypto';
import { MessagingRig } from '@orderflow/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SagaCompositeArrivals1765200000000 } from './saga-arrivals.migration.js';
import { SagaHistoryDeadlinesAndOperators1764200000000 } from './saga-history-kinds.migration.js';
import { SagaHistoryStepRows1764500000000 } from './saga-history-steps.migration.js';
import { SagaStore } from './saga-store.js';
import { SagaStateEnteredAt1764400000000 } from './saga-state-entered.migration.js';
import { CreateSagaTables1763910000000 } from './saga-tables.migration.js';

let rig: MessagingRig;
beforeEach(async () => {
  rig = await MessagingRig.create();
});
afterEach(async () => {
  await rig.dispose();
});

const primaryKeyOf = async (table: string) =>
  (
    await rig.dataSource.query<{ column: string }[]>(
      `SELECT a.attname AS column
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey, a.attnum)`,
      [table],
    )
  ).map((r) => r.column);

describe('CreateSagaTables1763910000000', () => {
  it('upgrades the earlier saga_instances in place, keeping its rows, and down restores it', async () => {
    await rig.dataSource.query(`
      CREATE TABLE saga_instances (
        correlation_id uuid PRIMARY KEY,
        saga_type text NOT NULL,
        state text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    const [open, done] = [randomUUID(), randomUUID()];
    await rig.dataSource.query(
      `INSERT INTO saga_instances (correlation_id, saga_type, state, version)
       VALUES ($1, 'order', 'AwaitingPayment', 4), ($2, 'order', 'Final', 7)`,
      [open, done],
    );
    const runner = rig.dataSource.createQueryRunner();
    try {
      await new CreateSagaTables1763910000000().up(runner);
      // The store writes the column, and reads the history rows, that later migrations make.
      await new SagaStateEnteredAt1764400000000().up(runner);
      await new SagaHistoryStepRows1764500000000().up(runner);
      await new SagaCompositeArrivals1765200000000().up(runner);
      expect(await primaryKeyOf('saga_instances')).toEqual(['saga_type', 'correlation_id']);
      const store = new SagaStore(rig.dataSource);
      expect(await store.find('order', open)).toMatchObject({
        state: 'AwaitingPayment',
        version: 4,
        completedAt: null,
      });
      expect((await store.find('order', done))?.completedAt).not.toBeNull();
      // Another saga type may now follow the same order.
      expect(await store.create('audit', open, 'Open', {})).toBe(1);
      await expect(
        rig.dataSource.query(
          `UPDATE saga_instances SET state = 'Final' WHERE correlation_id = $1 AND saga_type = 'audit'`,
          [open],
        ),
      ).rejects.toThrow(/saga_instances_completed_when_final/);

      await rig.dataSource.query(`DELETE FROM saga_instances WHERE saga_type = 'audit'`);
      await new SagaHistoryStepRows1764500000000().down(runner);
      await new SagaStateEnteredAt1764400000000().down(runner);
      await new CreateSagaTables1763910000000().down(runner);
      expect(await primaryKeyOf('saga_instances')).toEqual(['correlation_id']);
      expect(await rig.count(`SELECT count(*) AS n FROM saga_instances`)).toBe(2);
      expect(await rig.count(`SELECT count(*) AS n FROM pg_tables WHERE tablename = 'saga_history'`)).toBe(0);
    } finally {
      await runner.release();
    }
  });

  it('creates both tables on a database that has neither', async () => {
    const runner = rig.dataSource.createQueryRunner();
    try {
      await new CreateSagaTables1763910000000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await primaryKeyOf('saga_instances')).toEqual(['saga_type', 'correlation_id']);
    expect(await primaryKeyOf('saga_history')).toEqual(['id']);
  });
});

describe('SagaHistoryStepRows1764500000000', () => {
  it('turns each history record into a one-record step the store reads as before, and down restores the records', async () => {
    const runner = rig.dataSource.createQueryRunner();
    try {
      await new CreateSagaTables1763910000000().up(runner);
      await new SagaHistoryDeadlinesAndOperators1764200000000().up(runner);
      await new SagaStateEnteredAt1764400000000().up(runner);
      const id = randomUUID();
      const messageId = randomUUID();
      await rig.dataSource.query(
        `INSERT INTO saga_history (saga_type, correlation_id, kind, message_type, message_id, from_state, to_state, detail)
         VALUES ('order', $1, 'event', 'a.opened.v1', $2, NULL, NULL, '{}'),
                ('order', $1, 'transition', 'a.opened.v1', $2, 'Initial', 'Open', '{"rule": "initially"}'),
                ('order', $1, 'deadline', 'a.timeout.v1', NULL, NULL, NULL, '{"after": "PT1M"}')`,
        [id, messageId],
      );
      const before = await rig.dataSource.query<Record<string, unknown>[]>(
        `SELECT kind, message_type, message_id, from_state, to_state, detail, at FROM saga_history ORDER BY id`,
      );

      await new SagaHistoryStepRows1764500000000().up(runner);
      // The store reads the column a later migration adds.
      await new SagaCompositeArrivals1765200000000().up(runner);
      expect(await rig.count(`SELECT count(*) AS n FROM saga_history`)).toBe(3);
      const view = await new SagaStore(rig.dataSource).find('order', id);
      expect(view?.history.map(({ at: _at, ...entry }) => entry)).toEqual([
        { id: 1, kind: 'event', messageType: 'a.opened.v1', messageId, detail: {} },
        {
          id: 2,
          kind: 'transition',
          messageType: 'a.opened.v1',
          messageId,
          fromState: 'Initial',
          toState: 'Open',
          detail: { rule: 'initially' },
        },
        { id: 3, kind: 'deadline', messageType: 'a.timeout.v1', detail: { after: 'PT1M' } },
      ]);
      // A new step is one row, however many records it has.
      await new SagaStore(rig.dataSource).appendHistory('order', id, [
        { kind: 'event', messageType: 'a.closed.v1', detail: {} },
        { kind: 'transition', messageType: 'a.closed.v1', fromState: 'Open', toState: 'Closed', detail: {} },
      ]);
      expect(await rig.count(`SELECT count(*) AS n FROM saga_history`)).toBe(4);

      await rig.dataSource.query(`DELETE FROM saga_history WHERE id > 3`);
      await new SagaHistoryStepRows1764500000000().down(runner);
      expect(
        await rig.dataSource.query(
          `SELECT kind, message_type, message_id, from_state, to_state, detail, at FROM saga_history ORDER BY id`,
        ),
      ).toEqual(before);
    } finally {
      await runner.release();
    }
  });
});
