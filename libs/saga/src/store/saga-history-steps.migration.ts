/**
 * Saga history as one row per step instead of one per record. A step (one event handled, a deadline fired, an
 * operator's action) writes three to six records at once and they are only ever read together, by instance; as rows
 * of their own they cost ~34 heap tuples and twice as many index entries per order (bench/RESULTS.md, issue 16).
 * Now `saga_history` holds one row per step with its records as a JSON array, in order; the store expands them when
 * it reads. Existing rows become one-record steps. Listed in the orchestrator's `database.ts` after
 * SagaStateEnteredAt.
 *
 * The record kinds are no longer checked by the table (they live inside the array); the store's types are the check.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SagaHistoryStepRows1764500000000 implements MigrationInterface {
  name = 'SagaHistoryStepRows1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE saga_history RENAME TO saga_history_records`);
    await queryRunner.query(`ALTER INDEX saga_history_by_instance RENAME TO saga_history_records_by_instance`);
    await queryRunner.query(`
      CREATE TABLE saga_history (
        id bigserial PRIMARY KEY,
        saga_type text NOT NULL,
        correlation_id uuid NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        records jsonb NOT NULL CHECK (jsonb_typeof(records) = 'array' AND jsonb_array_length(records) > 0)
      )
    `);
    await queryRunner.query(`
      INSERT INTO saga_history (saga_type, correlation_id, at, records)
      SELECT saga_type, correlation_id, at,
             jsonb_build_array(jsonb_build_object('kind', kind, 'message_type', message_type, 'message_id', message_id,
                                                  'from_state', from_state, 'to_state', to_state, 'detail', detail))
        FROM saga_history_records ORDER BY id
    `);
    await queryRunner.query(`DROP TABLE saga_history_records`);
    await queryRunner.query(`CREATE INDEX saga_history_by_instance ON saga_history (saga_type, correlation_id, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE saga_history RENAME TO saga_history_steps`);
    await queryRunner.query(`ALTER INDEX saga_history_by_instance RENAME TO saga_history_steps_by_instance`);
    await queryRunner.query(`
      CREATE TABLE saga_history (
        id bigserial PRIMARY KEY,
        saga_type text NOT NULL,
        correlation_id uuid NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        kind text NOT NULL
          CHECK (kind IN ('event', 'transition', 'command', 'published', 'ignored', 'unexpected', 'deadline', 'operator')),
        message_type text NOT NULL,
        message_id uuid,
        from_state text,
        to_state text,
        detail jsonb NOT NULL DEFAULT '{}'
      )
    `);
    await queryRunner.query(`
      INSERT INTO saga_history (saga_type, correlation_id, at, kind, message_type, message_id, from_state, to_state, detail)
      SELECT s.saga_type, s.correlation_id, s.at, r->>'kind', r->>'message_type', (r->>'message_id')::uuid,
             r->>'from_state', r->>'to_state', r->'detail'
        FROM saga_history_steps s, jsonb_array_elements(s.records) WITH ORDINALITY AS x(r, n)
       ORDER BY s.id, n
    `);
    await queryRunner.query(`DROP TABLE saga_history_steps`);
    await queryRunner.query(`CREATE INDEX saga_history_by_instance ON saga_history (saga_type, correlation_id, id)`);
  }
}
