/**
 * Shipments in the logistics service's own database. A delivery is recorded under a row lock (`forUpdate`): the
 * carrier and the customer may report the same delivery at the same moment, and the lock makes the second report
 * wait and find it recorded, so it is answered like any repeated report instead of failing.
 */
import type { EntityManager } from 'typeorm';
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
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, order_id, status, carrier_shipment_id, tracking_number, rejection_code, rejection_reason,
  delivered_at, delivered_by, created_at, updated_at`;

/** The table's CHECK constraints guarantee the columns each status needs. */
function toShipment(row: ShipmentRow): Shipment {
  const common = {
    id: row.id,
    orderId: row.order_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
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

function columnsOf(s: ShipmentState): unknown[] {
  return [
    s.id,
    s.orderId,
    s.status,
    'booking' in s ? s.booking.carrierShipmentId : null,
    'booking' in s ? s.booking.trackingNumber : null,
    s.status === 'REJECTED' ? s.rejection.code : null,
    s.status === 'REJECTED' ? s.rejection.reason : null,
    s.status === 'DELIVERED' ? s.deliveredAt : null,
    s.status === 'DELIVERED' ? s.deliveredBy : null,
    s.createdAt,
    s.updatedAt,
  ];
}

export class ShipmentsRepository {
  /** Fails on a unique violation if the order already has a shipment (a concurrent twin of the same command). */
  async insert(manager: EntityManager, shipment: Shipment): Promise<void> {
    await manager.query(
      `INSERT INTO shipments (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      columnsOf(shipment.snapshot),
    );
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

  /** The order's shipments, oldest first (today at most one: see the shipments_one_per_order constraint). */
  async listByOrder(manager: EntityManager, orderId: string): Promise<Shipment[]> {
    const rows = await manager.query<ShipmentRow[]>(
      `SELECT ${COLUMNS} FROM shipments WHERE order_id = $1 ORDER BY created_at, id`,
      [orderId],
    );
    return rows.map(toShipment);
  }
}
