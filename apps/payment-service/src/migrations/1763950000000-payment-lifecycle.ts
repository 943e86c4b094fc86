import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PaymentLifecycle1763950000000 implements MigrationInterface {
  name = 'PaymentLifecycle1763950000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE payments
        ADD COLUMN payment_token text,
        ADD COLUMN authorization_id text,
        ADD COLUMN authorization_requests integer NOT NULL DEFAULT 1 CHECK (authorization_requests >= 1),
        ADD COLUMN authorized_at timestamptz,
        ADD COLUMN decline_code text,
        ADD COLUMN decline_reason text,
        ADD COLUMN void_requested_at timestamptz,
        ADD COLUMN follow_up text,
        ADD COLUMN follow_up_due_at timestamptz,
        ADD COLUMN follow_up_failures integer NOT NULL DEFAULT 0,
        ADD COLUMN correlation_id text,
        ADD CONSTRAINT payments_status_known
          CHECK (status IN ('PENDING', 'AUTHORIZED', 'CAPTURED', 'DECLINED', 'VOIDED', 'REFUNDED')),
        ADD CONSTRAINT payments_decline_code_known CHECK (decline_code IN ('DECLINED', 'TIMED_OUT', 'GATEWAY_ERROR')),
        ADD CONSTRAINT payments_follow_up_known CHECK (follow_up IN ('REAUTHORIZE', 'REVERSE', 'VOID')),
        ADD CONSTRAINT payments_follow_up_has_due_time CHECK ((follow_up IS NULL) = (follow_up_due_at IS NULL))
    `);
    // One payment per order: a command re-sent to two replicas at once cannot authorise twice.
    await queryRunner.query(`CREATE UNIQUE INDEX payments_order ON payments (order_id)`);
    // GatewayFollowUps polls for due work; the index holds only the few rows that have some.
    await queryRunner.query(
      `CREATE INDEX payments_follow_up_due ON payments (follow_up_due_at) WHERE follow_up IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX payments_follow_up_due; DROP INDEX payments_order`);
    await queryRunner.query(`
      ALTER TABLE payments
        DROP CONSTRAINT payments_follow_up_has_due_time, DROP CONSTRAINT payments_follow_up_known,
        DROP CONSTRAINT payments_decline_code_known, DROP CONSTRAINT payments_status_known,
        DROP COLUMN payment_token, DROP COLUMN authorization_id, DROP COLUMN authorization_requests,
        DROP COLUMN authorized_at, DROP COLUMN decline_code, DROP COLUMN decline_reason, DROP COLUMN void_requested_at,
        DROP COLUMN follow_up, DROP COLUMN follow_up_due_at, DROP COLUMN follow_up_failures, DROP COLUMN correlation_id
    `);
  }
}
