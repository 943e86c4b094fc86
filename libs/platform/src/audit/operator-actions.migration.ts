/**
 * The record of what operators did, in the database of every service (listed in its `database.ts`): one row per
 * request an operator made that could change something, whatever it changed — stock, a dead letter replayed, a
 * notification redelivered, a merchant's policy or keys, a saga retried. Kept, not pruned: an audit trail is for later.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOperatorActions1765000000000 implements MigrationInterface {
  name = 'CreateOperatorActions1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE operator_actions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        operator text NOT NULL,
        action text NOT NULL,
        target jsonb NOT NULL DEFAULT '{}',
        status integer NOT NULL,
        correlation_id text
      )
    `);
    await queryRunner.query(`CREATE INDEX operator_actions_at ON operator_actions (at DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE operator_actions`);
  }
}
