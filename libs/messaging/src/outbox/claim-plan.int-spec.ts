// The relay's claim keeps the one plan that stays cheap on a queue table (ADR 0003): after the outbox has filled,
// emptied and been vacuumed — the moment a cached plan used to turn into a sequential scan and a sort that then read
// every page the table grew back to — it is still a walk of `outbox_messages_unsent` in id order. A plan, not a
// timing: what it costs is measured by the suite benchmark (bench/RESULTS.md).
import { MessagingRig } from '@orderflow/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { relayPool } from './outbox-relay.js';
import { CLAIM_SQL } from './outbox-store.js';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

let rig: MessagingRig;
beforeEach(async () => {
  rig = await MessagingRig.create();
});
afterEach(async () => {
  await rig.dispose();
});

describe("the relay's claim plan", () => {
  it('walks the unsent index in id order after the outbox filled, emptied and was vacuumed', async () => {
    await rig.dataSource.query(
      `INSERT INTO outbox_messages (message_id, exchange, routing_key, ordering_key, properties, body)
       SELECT gen_random_uuid(), 'x', 'y', gen_random_uuid()::text, '{}', '\\x00' FROM generate_series(1, 5000)`,
    );
    await rig.dataSource.query('DELETE FROM outbox_messages');
    await rig.dataSource.query('VACUUM ANALYZE outbox_messages');
    const [{ pages }] = await rig.dataSource.query<{ pages: number }[]>(
      `SELECT relpages AS pages FROM pg_class WHERE relname = 'outbox_messages'`,
    );
    expect(pages, 'the vacuum kept the emptied pages').toBeGreaterThan(0);
    // A few rows written since, and statistics that count them: with near-empty statistics the planner liked reading
    // the by-key index whole and sorting by id.
    await rig.dataSource.query(
      `INSERT INTO outbox_messages (message_id, exchange, routing_key, ordering_key, properties, body)
       SELECT gen_random_uuid(), 'x', 'y', gen_random_uuid()::text, '{}', '\\x00' FROM generate_series(1, 80)`,
    );
    await rig.dataSource.query('ANALYZE outbox_messages');

    const pool = relayPool(rig.env.databaseUrl, 1, 'it-claim-plan', false);
    try {
      const { rows } = await pool.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (FORMAT JSON) ${CLAIM_SQL}`,
        [200, 30_000],
      );
      const nodes = nodesOf(rows[0]['QUERY PLAN'][0].Plan);
      const types = nodes.map((n) => n['Node Type']);
      // No node that reads a whole relation or index: each would reread the dead rows a queue table collects.
      for (const whole of ['Seq Scan', 'Sort', 'Hash', 'Bitmap Heap Scan']) {
        expect(types, JSON.stringify(types)).not.toContain(whole);
      }
      expect(nodes.map((n) => n['Index Name'])).toContain('outbox_messages_unsent');
    } finally {
      await pool.end();
    }
  });
});
