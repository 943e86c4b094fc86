/**
 * When each instance entered its current state, on the instance row: the engine reads it with the instance instead of
 * asking the history for the last transition (one statement fewer per transition). Existing rows take their last
 * update, the closest record there is. Listed in the orchestrator's `database.ts` after CreateSagaTables.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SagaStateEnteredAt1764400000000 implements MigrationInterface {
  name = 'SagaStateEnteredAt1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE saga_instances ADD COLUMN state_entered_at timestamptz`);
    await queryRunner.query(`UPDATE saga_instances SET state_entered_at = updated_at`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE saga_instances DROP COLUMN state_entered_at`);
  }
}
