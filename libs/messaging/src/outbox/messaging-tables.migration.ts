/**
 * The outbox and inbox tables, created in each service's own database by that service's migrations (each app
 * lists this migration in its `database.ts`).
 *
 * - `outbox_messages`: rows written in the same transaction as the business change; a partial index over unsent
 *   rows keeps the relay's claim query fast however many sent rows wait for pruning.
 * - `inbox_messages`: one row per (consumer, message id) handled; its primary key is what makes a duplicate
 *   delivery a no-op.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMessagingTables1763900000000 implements MigrationInterface {
  name = 'CreateMessagingTables1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outbox_messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id uuid NOT NULL,
        exchange text NOT NULL,
        routing_key text NOT NULL,
        ordering_key text,
        properties jsonb NOT NULL,
        body bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        available_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        lease_until timestamptz,
        publish_attempts integer NOT NULL DEFAULT 0,
        last_error text,
        sent_at timestamptz
      ) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)
    `);
    await queryRunner.query(`CREATE INDEX outbox_messages_unsent ON outbox_messages (id) WHERE sent_at IS NULL`);
    await queryRunner.query(
      `CREATE INDEX outbox_messages_unsent_by_key ON outbox_messages (ordering_key, id) WHERE sent_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX outbox_messages_sent_at ON outbox_messages (sent_at) WHERE sent_at IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE inbox_messages (
        consumer text NOT NULL,
        message_id uuid NOT NULL,
        message_type text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (consumer, message_id)
      ) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)
    `);
    await queryRunner.query(`CREATE INDEX inbox_messages_received_at ON inbox_messages (received_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE inbox_messages`);
    await queryRunner.query(`DROP TABLE outbox_messages`);
  }
}
