import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OrderDetailsAndIdempotency1763920000000 implements MigrationInterface {
  name = 'OrderDetailsAndIdempotency1763920000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE orders
        ADD COLUMN currency char(3) NOT NULL,
        ADD COLUMN items jsonb NOT NULL,
        ADD COLUMN total_amount bigint NOT NULL CHECK (total_amount >= 0),
        ADD COLUMN shipping_address jsonb NOT NULL,
        ADD COLUMN callback_url text,
        ADD COLUMN status_reason text,
        ADD COLUMN history jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN cancellation_requested_at timestamptz,
        ADD CONSTRAINT orders_status_known CHECK (status IN ('PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED'))
    `);
    // Keyset pagination of GET /orders, newest first, optionally by status or customer.
    await queryRunner.query(`CREATE INDEX orders_created ON orders (created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX orders_status_created ON orders (status, created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX orders_customer_created ON orders (customer_id, created_at DESC, id DESC)`);
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        order_id uuid NOT NULL,
        response_status integer NOT NULL,
        response_body jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE idempotency_keys`);
    await queryRunner.query(
      `DROP INDEX orders_customer_created; DROP INDEX orders_status_created; DROP INDEX orders_created`,
    );
    await queryRunner.query(`
      ALTER TABLE orders DROP CONSTRAINT orders_status_known,
        DROP COLUMN currency, DROP COLUMN items, DROP COLUMN total_amount, DROP COLUMN shipping_address,
        DROP COLUMN callback_url, DROP COLUMN status_reason, DROP COLUMN history, DROP COLUMN cancellation_requested_at
    `);
  }
}
