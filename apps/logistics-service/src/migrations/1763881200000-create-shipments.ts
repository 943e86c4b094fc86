import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateShipments1763881200000 implements MigrationInterface {
  name = 'CreateShipments1763881200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE shipments (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE shipments`);
  }
}
