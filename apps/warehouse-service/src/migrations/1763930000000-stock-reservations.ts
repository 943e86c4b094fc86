import type { MigrationInterface, QueryRunner } from 'typeorm';

export class StockReservations1763930000000 implements MigrationInterface {
  name = 'StockReservations1763930000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE stock_items ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    // One row per order the saga asked to reserve for, whatever the answer was, so a re-sent command gets the same
    // answer. A refusal keeps the SKUs that were short; only a reservation that was made has lines.
    await queryRunner.query(`
      CREATE TABLE stock_reservations (
        order_id uuid PRIMARY KEY,
        status text NOT NULL CONSTRAINT stock_reservations_status_known
          CHECK (status IN ('RESERVED', 'REFUSED', 'RELEASED', 'PICKED')),
        short_skus text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT stock_reservations_refusal_names_skus CHECK ((status = 'REFUSED') = (cardinality(short_skus) > 0))
      )
    `);
    await queryRunner.query(`
      CREATE TABLE stock_reservation_lines (
        order_id uuid NOT NULL REFERENCES stock_reservations (order_id),
        sku text NOT NULL REFERENCES stock_items (sku),
        quantity integer NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (order_id, sku)
      )
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE stock_reservation_lines`);
    await queryRunner.query(`DROP TABLE stock_reservations`);
    await queryRunner.query(`ALTER TABLE stock_items DROP COLUMN updated_at`);
  }
}
