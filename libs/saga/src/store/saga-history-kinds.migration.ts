/**
 * Widens the saga history to deadlines (scheduled, cancelled, stale) and operators' actions. Listed in the
 * orchestrator's `database.ts` after CreateSagaTables. `down` fails while such rows exist, rather than delete them.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const BEFORE = `'event', 'transition', 'command', 'published', 'ignored', 'unexpected'`;

export class SagaHistoryDeadlinesAndOperators1764200000000 implements MigrationInterface {
  name = 'SagaHistoryDeadlinesAndOperators1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE saga_history
        DROP CONSTRAINT saga_history_kind_check,
        ADD CONSTRAINT saga_history_kind_check CHECK (kind IN (${BEFORE}, 'deadline', 'operator'))
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE saga_history
        DROP CONSTRAINT saga_history_kind_check,
        ADD CONSTRAINT saga_history_kind_check CHECK (kind IN (${BEFORE}))
    `);
  }
}
