/**
 * Which parts of a composite event have arrived in the instance's current state (definition/composite.ts), on the
 * instance row, so the version check that orders two answers handled at once covers them too. Existing rows wait for
 * nothing: an empty array, set by the column's default without rewriting the table. Listed in the orchestrator's
 * `database.ts` after the other saga migrations.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SagaCompositeArrivals1765200000000 implements MigrationInterface {
  name = 'SagaCompositeArrivals1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE saga_instances ADD COLUMN arrived text[] NOT NULL DEFAULT '{}'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE saga_instances DROP COLUMN arrived`);
  }
}
