/**
 * The table of the Idempotency-Key mechanism (idempotency-keys.ts), for a service that starts taking keys: it lists
 * this migration in its `database.ts`. One row per (scope, key) answered, written in the transaction of the work it
 * answers; its primary key is what makes two records of one key impossible.
 *
 * The order service does not list it: its table predates the mechanism (its own migrations 1763920000000 and
 * 1765200000000 made it, with two order-only columns nothing writes any more).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIdempotencyKeys1765200000001 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1765200000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        response_body jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE idempotency_keys`);
  }
}
