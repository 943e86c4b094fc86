import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSagaInstances1763881200000 implements MigrationInterface {
  name = 'CreateSagaInstances1763881200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE saga_instances (
        correlation_id uuid PRIMARY KEY,
        saga_type text NOT NULL,
        state text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE saga_instances`);
  }
}
