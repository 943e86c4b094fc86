import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A shipment may be BOOKING: the intent to book, committed before the carrier is called (see shipment-booker.ts). It
 * keeps what the carrier is to be asked (`booking_request`), when it is next due to be asked (`booking_due_at`: a
 * backoff, or the lease of the process asking now), how many calls went unanswered, and the correlation and trace
 * of the command that asked for it, so the answer recorded later continues both.
 */
export class ShipmentBookingIntents1763960000000 implements MigrationInterface {
  name = 'ShipmentBookingIntents1763960000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE shipments
        ADD COLUMN booking_request jsonb,
        ADD COLUMN booking_due_at timestamptz,
        ADD COLUMN booking_attempts integer NOT NULL DEFAULT 0 CHECK (booking_attempts >= 0),
        ADD COLUMN correlation_id text,
        ADD COLUMN traceparent text,
        ADD COLUMN tracestate text,
        DROP CONSTRAINT shipments_status_known,
        ADD CONSTRAINT shipments_status_known CHECK (status IN ('BOOKING', 'CREATED', 'DELIVERED', 'REJECTED')),
        DROP CONSTRAINT shipments_booked,
        ADD CONSTRAINT shipments_booked CHECK (
          status IN ('BOOKING', 'REJECTED') OR (carrier_shipment_id IS NOT NULL AND tracking_number IS NOT NULL)
        ),
        ADD CONSTRAINT shipments_booking CHECK (
          (status = 'BOOKING') = (booking_request IS NOT NULL AND booking_due_at IS NOT NULL)
          AND (status <> 'BOOKING' OR (carrier_shipment_id IS NULL AND tracking_number IS NULL))
        )
    `);
    // The booker's sweep looks for due intents; the index holds only the few rows still BOOKING.
    await queryRunner.query(
      `CREATE INDEX shipments_booking_due ON shipments (booking_due_at) WHERE status = 'BOOKING'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Fails while a shipment is BOOKING (the restored constraints do not allow it): let the booker finish first.
    await queryRunner.query(`DROP INDEX shipments_booking_due`);
    await queryRunner.query(`
      ALTER TABLE shipments
        DROP CONSTRAINT shipments_booking,
        DROP CONSTRAINT shipments_booked,
        ADD CONSTRAINT shipments_booked CHECK (
          status = 'REJECTED' OR (carrier_shipment_id IS NOT NULL AND tracking_number IS NOT NULL)
        ),
        DROP CONSTRAINT shipments_status_known,
        ADD CONSTRAINT shipments_status_known CHECK (status IN ('CREATED', 'DELIVERED', 'REJECTED')),
        DROP COLUMN tracestate,
        DROP COLUMN traceparent,
        DROP COLUMN correlation_id,
        DROP COLUMN booking_attempts,
        DROP COLUMN booking_due_at,
        DROP COLUMN booking_request
    `);
  }
}
