/**
 * The saga engine's tables, in the database of the service that runs sagas (listed in its `database.ts` after its
 * own migrations).
 *
 * - `saga_instances`: one row per (saga type, correlation id). `version` is the optimistic-concurrency token every
 *   update must match; `completed_at` is set exactly when the state is `Final` (a check constraint holds it), and
 *   completed rows are kept until the retention prunes them (saga-pruner.ts). A database whose earlier migration created the table keyed by correlation id alone is
 *   upgraded in place: two saga types may then follow the same order.
 * - `saga_history`: append-only, written in the transaction that changed the instance, so it can be trusted as the
 *   record of what the saga saw and did. No foreign key: events for an instance that does not exist are recorded too.
 *
 * `down` drops the history and restores the earlier shape of `saga_instances` (key: correlation id alone; no
 * `completed_at`); it fails if two saga types share a correlation id by then.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSagaTables1763910000000 implements MigrationInterface {
  name = 'CreateSagaTables1763910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const [{ exists }] = (await queryRunner.query(`SELECT to_regclass('saga_instances') IS NOT NULL AS exists`)) as {
      exists: boolean;
    }[];
    if (exists) {
      await queryRunner.query(`
        ALTER TABLE saga_instances
          ADD COLUMN completed_at timestamptz,
          ALTER COLUMN created_at SET DEFAULT clock_timestamp(),
          ALTER COLUMN updated_at SET DEFAULT clock_timestamp(),
          DROP CONSTRAINT saga_instances_pkey,
          ADD CONSTRAINT saga_instances_pkey PRIMARY KEY (saga_type, correlation_id)
      `);
      await queryRunner.query(`UPDATE saga_instances SET completed_at = updated_at WHERE state = 'Final'`);
    } else {
      await queryRunner.query(`
        CREATE TABLE saga_instances (
          saga_type text NOT NULL,
          correlation_id uuid NOT NULL,
          state text NOT NULL,
          data jsonb NOT NULL DEFAULT '{}',
          version integer NOT NULL DEFAULT 1,
          created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          completed_at timestamptz,
          CONSTRAINT saga_instances_pkey PRIMARY KEY (saga_type, correlation_id)
        )
      `);
    }
    await queryRunner.query(`
      ALTER TABLE saga_instances
        ADD CONSTRAINT saga_instances_completed_when_final CHECK ((state = 'Final') = (completed_at IS NOT NULL))
    `);
    // The read API lists one saga type, optionally in one state, oldest first, by keyset on (created_at, id).
    await queryRunner.query(
      `CREATE INDEX saga_instances_by_age ON saga_instances (saga_type, created_at, correlation_id)`,
    );
    await queryRunner.query(
      `CREATE INDEX saga_instances_by_state ON saga_instances (saga_type, state, created_at, correlation_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE saga_history (
        id bigserial PRIMARY KEY,
        saga_type text NOT NULL,
        correlation_id uuid NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        kind text NOT NULL
          CHECK (kind IN ('event', 'transition', 'command', 'published', 'ignored', 'unexpected')),
        message_type text NOT NULL,
        message_id uuid,
        from_state text,
        to_state text,
        detail jsonb NOT NULL DEFAULT '{}'
      )
    `);
    await queryRunner.query(`CREATE INDEX saga_history_by_instance ON saga_history (saga_type, correlation_id, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE saga_history`);
    await queryRunner.query(`DROP INDEX saga_instances_by_state`);
    await queryRunner.query(`DROP INDEX saga_instances_by_age`);
    await queryRunner.query(`
      ALTER TABLE saga_instances
        DROP CONSTRAINT saga_instances_completed_when_final,
        DROP COLUMN completed_at,
        ALTER COLUMN created_at SET DEFAULT now(),
        ALTER COLUMN updated_at SET DEFAULT now(),
        DROP CONSTRAINT saga_instances_pkey,
        ADD CONSTRAINT saga_instances_pkey PRIMARY KEY (correlation_id)
    `);
  }
}
