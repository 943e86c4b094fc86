/**
 * An index over finished saga instances by completion time, for the pruner (SagaPruner): each batch then reads only
 * the instances it deletes, and a run with nothing to delete reads one index page. Without it every batch scans and
 * sorts the whole `saga_instances` table (measured on 1M instances, 6M history rows: 250 ms a batch, against 15 ms
 * with the index, nearly all of it the deletes). Partial: running instances, the hot rows, do not pay for it.
 *
 * Listed in the orchestrator's `database.ts` after CreateSagaTables. Built in the migration's transaction, so writes
 * to `saga_instances` wait while it builds (about a second per million finished instances).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SagaInstancesByCompletion1764300000000 implements MigrationInterface {
  name = 'SagaInstancesByCompletion1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX saga_instances_by_completion ON saga_instances (completed_at) WHERE completed_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX saga_instances_by_completion`);
  }
}
