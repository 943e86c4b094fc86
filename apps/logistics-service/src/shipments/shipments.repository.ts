/**
 * Shipments in the logistics service's own database. A delivery is recorded under a row lock (`forUpdate`): the
 * carrier and the customer may report the same delivery at the same moment, and the lock makes the second report
 * wait and find it recorded, so it is answered like any repeated report instead of failing.
 *
 * A BOOKING shipment is also a unit of work for the booker: claimed with a lease (`claimDueBookings`), so replicas
 * never ask the carrier for it at once, and its answer written only while it is still BOOKING, so it is recorded once.
 */
import type { WorkContext } from '@orderflow/messaging';
import type { EntityManager } from 'typeorm';
import type { BookingRequest } from './carrier.js';
import {
  type DeliveryReporter,
  type RejectionCode,
  Shipment,
  type ShipmentState,
  type ShipmentStatus,
} from './shipment.js';

interface ShipmentRow {
  id: string;
  order_id: string;
  status: ShipmentStatus;
  carrier_shipment_id: string | null;
  tracking_number: string | null;
  rejection_code: RejectionCode | null;
  rejection_reason: string | null;
  delivered_at: Date | null;
  delivered_by: DeliveryReporter | null;
  booking_request: Omit<BookingRequest, 'orderId'> | null;
  booking_attempts: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMN_LIST = [
  'id',
  'order_id',
  'status',
  'carrier_shipment_id',
  'tracking_number',
  'rejection_code',
  'rejection_reason',
  'delivered_at',
  'delivered_by',
  'booking_request',
  'booking_attempts',
  'created_at',
  'updated_at',
];
const COLUMNS = COLUMN_LIST.join(', ');

/** A BOOKING shipment this process has leased, with the correlation and trace of the command that asked for it. */
export interface ClaimedBooking {
  shipment: Shipment;
  context: WorkContext;
}

/** The table's CHECK constraints guarantee the columns each status needs. */
function toShipment(row: ShipmentRow): Shipment {
  const common = {
    id: row.id,
    orderId: row.order_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
  if (row.status === 'BOOKING') {
    const request = row.booking_request as Omit<BookingRequest, 'orderId'>;
    return Shipment.restore({
      ...common,
      status: 'BOOKING',
      request: { orderId: row.order_id, ...request },
      attempts: row.booking_attempts,
    });
  }
  if (row.status === 'REJECTED') {
    return Shipment.restore({
      ...common,
      status: 'REJECTED',
      rejection: { code: row.rejection_code as RejectionCode, reason: row.rejection_reason as string },
    });
  }
  const booking = {
    carrierShipmentId: row.carrier_shipment_id as string,
    trackingNumber: row.tracking_number as string,
  };
  if (row.status === 'DELIVERED') {
    return Shipment.restore({
      ...common,
      status: 'DELIVERED',
      booking,
      deliveredAt: (row.delivered_at as Date).toISOString(),
      deliveredBy: row.delivered_by as DeliveryReporter,
    });
  }
  return Shipment.restore({ ...common, status: 'CREATED', booking });
}

type ClaimedRow = ShipmentRow & {
  correlation_id: string | null;
  traceparent: string | null;
  tracestate: string | null;
};

function toClaimed(row: ClaimedRow): ClaimedBooking {
  return {
    shipment: toShipment(row),
    context: {
      correlationId: row.correlation_id ?? undefined,
      traceparent: row.traceparent ?? undefined,
      tracestate: row.tracestate ?? undefined,
    },
  };
}

/** The columns an answer (or a rejection for want of one) sets: $2 … $7. */
function answerColumns(s: ShipmentState): unknown[] {
  if (s.status !== 'CREATED' && s.status !== 'REJECTED') throw new Error(`shipment ${s.id} is ${s.status}`);
  return [
    s.status,
    s.status === 'CREATED' ? s.booking.carrierShipmentId : null,
    s.status === 'CREATED' ? s.booking.trackingNumber : null,
    s.status === 'REJECTED' ? s.rejection.code : null,
    s.status === 'REJECTED' ? s.rejection.reason : null,
    s.updatedAt,
  ];
}

/** The result of an UPDATE through EntityManager.query: its rows (RETURNING) and how many rows it changed. */
type Updated<R = unknown> = [R[], number];

const CLAIMED = `${COLUMN_LIST.map((c) => `s.${c}`).join(', ')}, s.correlation_id, s.traceparent, s.tracestate`;

export class ShipmentsRepository {
  /**
   * Records the intent to book, due at once (by the database's clock, which the booker's claims compare with).
   * Fails on a unique violation if the order already has a shipment (a concurrent twin of the same command).
   */
  async insertBooking(manager: EntityManager, shipment: Shipment, context: WorkContext): Promise<void> {
    const s = shipment.snapshot;
    if (s.status !== 'BOOKING') throw new Error(`shipment ${s.id} is ${s.status}, not BOOKING`);
    const { address, parcels } = s.request;
    await manager.query(
      `INSERT INTO shipments (id, order_id, status, booking_request, booking_attempts, booking_due_at, correlation_id,
         traceparent, tracestate, created_at, updated_at)
       VALUES ($1, $2, 'BOOKING', $3, $4, now(), $5, $6, $7, $8, $9)`,
      [
        s.id,
        s.orderId,
        JSON.stringify({ address, parcels }),
        s.attempts,
        context.correlationId ?? null,
        context.traceparent ?? null,
        context.tracestate ?? null,
        s.createdAt,
        s.updatedAt,
      ],
    );
  }

  /**
   * Claims up to `limit` BOOKING shipments that are due, oldest first, and leases them: each is due again only after
   * `leaseMs`, so no other claim (of this replica or another) takes it while the carrier is being asked. Rows another
   * transaction holds are skipped, not waited for. One statement: no transaction stays open after it.
   */
  async claimDueBookings(manager: EntityManager, limit: number, leaseMs: number): Promise<ClaimedBooking[]> {
    const [rows] = await manager.query<Updated<ClaimedRow>>(
      `UPDATE shipments s SET booking_due_at = now() + $2::int * interval '1 millisecond'
       FROM (SELECT id FROM shipments WHERE status = 'BOOKING' AND booking_due_at <= now()
             ORDER BY booking_due_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
       WHERE s.id = due.id
       RETURNING ${CLAIMED}`,
      [limit, leaseMs],
    );
    return rows.map(toClaimed);
  }

  /**
   * Records the carrier's answer (CREATED or REJECTED), if the shipment is still BOOKING. Returns false when it is
   * not: another process asked too (its lease ran out meanwhile) and recorded the answer first.
   */
  async recordBookingOutcome(manager: EntityManager, shipment: Shipment): Promise<boolean> {
    const [, changed] = await manager.query<Updated>(
      `UPDATE shipments SET status = $2, carrier_shipment_id = $3, tracking_number = $4, rejection_code = $5,
         rejection_reason = $6, updated_at = $7, booking_attempts = booking_attempts + 1, booking_request = NULL,
         booking_due_at = NULL
       WHERE id = $1 AND status = 'BOOKING'`,
      [shipment.snapshot.id, ...answerColumns(shipment.snapshot)],
    );
    return changed === 1;
  }

  /**
   * Counts an unanswered call and makes the intent due again after `retryInMs`, unless another process counted this
   * attempt or recorded an answer meanwhile (then false, and nothing changes).
   */
  async postponeBooking(manager: EntityManager, shipment: Shipment, retryInMs: number): Promise<boolean> {
    const s = shipment.snapshot;
    if (s.status !== 'BOOKING') throw new Error(`shipment ${s.id} is ${s.status}, not BOOKING`);
    const [, changed] = await manager.query<Updated>(
      `UPDATE shipments SET booking_attempts = $2, booking_due_at = now() + $3::int * interval '1 millisecond',
         updated_at = $4
       WHERE id = $1 AND status = 'BOOKING' AND booking_attempts = $2 - 1`,
      [s.id, s.attempts, retryInMs, s.updatedAt],
    );
    return changed === 1;
  }

  /** Writes a recorded delivery; call it on a shipment read with `forUpdate`, in the same transaction. */
  async updateDelivery(manager: EntityManager, shipment: Shipment): Promise<void> {
    const s = shipment.snapshot;
    if (s.status !== 'DELIVERED') throw new Error(`shipment ${s.id} is ${s.status}, not DELIVERED`);
    await manager.query(
      `UPDATE shipments SET status = $2, delivered_at = $3, delivered_by = $4, updated_at = $5 WHERE id = $1`,
      [s.id, s.status, s.deliveredAt, s.deliveredBy, s.updatedAt],
    );
  }

  async find(manager: EntityManager, id: string, options: { forUpdate?: boolean } = {}): Promise<Shipment | undefined> {
    const rows = await manager.query<ShipmentRow[]>(
      `SELECT ${COLUMNS} FROM shipments WHERE id = $1 ${options.forUpdate ? 'FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] && toShipment(rows[0]);
  }

  async findByCarrierShipmentId(
    manager: EntityManager,
    carrierShipmentId: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<Shipment | undefined> {
    const rows = await manager.query<ShipmentRow[]>(
      `SELECT ${COLUMNS} FROM shipments WHERE carrier_shipment_id = $1 ${options.forUpdate ? 'FOR UPDATE' : ''}`,
      [carrierShipmentId],
    );
    return rows[0] && toShipment(rows[0]);
  }

  /** The order's shipment (at most one: see the shipments_one_per_order constraint). */
  async findByOrder(
    manager: EntityManager,
    orderId: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<Shipment | undefined> {
    const rows = await manager.query<ShipmentRow[]>(
      `SELECT ${COLUMNS} FROM shipments WHERE order_id = $1 ${options.forUpdate ? 'FOR UPDATE' : ''}`,
      [orderId],
    );
    return rows[0] && toShipment(rows[0]);
  }

  /** The order's shipments, oldest first (today at most one: see the shipments_one_per_order constraint). */
  async listByOrder(manager: EntityManager, orderId: string): Promise<Shipment[]> {
    const rows = await manager.query<ShipmentRow[]>(
      `SELECT ${COLUMNS} FROM shipments WHERE order_id = $1 ORDER BY created_at, id`,
      [orderId],
    );
    return rows.map(toShipment);
  }
}
