import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStockItems1763881200000 implements MigrationInterface {
  name = 'CreateStockItems1763881200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE stock_items (
        sku text PRIMARY KEY,
        on_hand integer NOT NULL CHECK (on_hand >= 0),
        reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
        version integer NOT NULL DEFAULT 1
      )
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE stock_items`);
  }
}
