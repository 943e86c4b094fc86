import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merchant notifications: one row per order status change to tell a merchant about (written in the transaction that
 * recorded the change) and one per delivery attempt, kept for merchants and operators to inspect. The schedule the
 * notification follows is copied onto it, so changing a merchant's policy never reshapes attempts under way.
 * The durable scheduler's `scheduled_jobs` table comes before this one (libs/scheduling).
 */
export class Notifications1764100000001 implements MigrationInterface {
  name = 'Notifications1764100000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id),
        merchant_id uuid NOT NULL REFERENCES merchants (id),
        callback_url text NOT NULL,
        sequence integer NOT NULL,
        payload jsonb NOT NULL,
        schedule jsonb NOT NULL,
        state text NOT NULL CHECK (state IN ('PENDING', 'DELIVERED', 'FAILED')),
        attempts integer NOT NULL DEFAULT 0,
        round_attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        created_at timestamptz NOT NULL,
        settled_at timestamptz,
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT notifications_one_per_status UNIQUE (order_id, sequence)
      )
    `);
    await queryRunner.query(
      `CREATE INDEX notifications_failed ON notifications (settled_at DESC) WHERE state = 'FAILED'`,
    );
    await queryRunner.query(`
      CREATE TABLE notification_attempts (
        notification_id uuid NOT NULL REFERENCES notifications (id),
        attempt integer NOT NULL,
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        outcome text CHECK (outcome IN ('ACKNOWLEDGED', 'FAILED', 'INTERRUPTED')),
        status_code integer,
        latency_ms integer,
        error text,
        PRIMARY KEY (notification_id, attempt),
        CHECK ((outcome IS NULL) = (ended_at IS NULL))
      )
    `);
    await queryRunner.query(`ALTER TABLE merchants ADD COLUMN notification_policy jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE merchants DROP COLUMN notification_policy`);
    await queryRunner.query(`DROP TABLE notification_attempts`);
    await queryRunner.query(`DROP TABLE notifications`);
  }
}
