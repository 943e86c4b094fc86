import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ShipmentBookings1763940000000 implements MigrationInterface {
  name = 'ShipmentBookings1763940000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE shipments
        ADD COLUMN carrier_shipment_id text,
        ADD COLUMN tracking_number text,
        ADD COLUMN rejection_code text,
        ADD COLUMN rejection_reason text,
        ADD COLUMN delivered_at timestamptz,
        ADD COLUMN delivered_by text,
        ADD CONSTRAINT shipments_status_known CHECK (status IN ('CREATED', 'DELIVERED', 'REJECTED')),
        ADD CONSTRAINT shipments_booked CHECK (
          status = 'REJECTED' OR (carrier_shipment_id IS NOT NULL AND tracking_number IS NOT NULL)
        ),
        ADD CONSTRAINT shipments_rejected CHECK (
          status <> 'REJECTED'
          OR (rejection_code IN ('SHIPPING_UNAVAILABLE', 'CARRIER_ERROR') AND rejection_reason IS NOT NULL)
        ),
        ADD CONSTRAINT shipments_delivered CHECK (
          status <> 'DELIVERED' OR (delivered_at IS NOT NULL AND delivered_by IN ('CARRIER', 'CUSTOMER'))
        )
    `);
    // One shipment per order: what keeps a re-sent command, even on another replica, from booking twice.
    await queryRunner.query(`ALTER TABLE shipments ADD CONSTRAINT shipments_one_per_order UNIQUE (order_id)`);
    // The carrier's delivery reports name its own shipment id.
    await queryRunner.query(
      `ALTER TABLE shipments ADD CONSTRAINT shipments_carrier_shipment_unique UNIQUE (carrier_shipment_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE shipments
        DROP CONSTRAINT shipments_carrier_shipment_unique,
        DROP CONSTRAINT shipments_one_per_order,
        DROP CONSTRAINT shipments_delivered,
        DROP CONSTRAINT shipments_rejected,
        DROP CONSTRAINT shipments_booked,
        DROP CONSTRAINT shipments_status_known,
        DROP COLUMN delivered_by,
        DROP COLUMN delivered_at,
        DROP COLUMN rejection_reason,
        DROP COLUMN rejection_code,
        DROP COLUMN tracking_number,
        DROP COLUMN carrier_shipment_id
    `);
  }
}
