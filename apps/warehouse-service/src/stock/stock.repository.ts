/**
 * Stock items and reservations in the warehouse's own database. Locking is pessimistic: whatever changes stock
 * first locks the rows it reads (`FOR UPDATE`), so a concurrent change waits and then decides on what was committed;
 * no two orders can both be promised the last unit. Items are always locked in SKU order, so two orders that share
 * SKUs queue behind each other instead of deadlocking.
 */
import type { EntityManager } from 'typeorm';
import { StockItem } from './stock-item.js';
import { type ReservationLine, type ReservationStatus, StockReservation } from './stock-reservation.js';

interface StockItemRow {
  sku: string;
  on_hand: number;
  reserved: number;
}

interface ReservationRow {
  order_id: string;
  status: ReservationStatus;
  short_skus: string[];
  lines: ReservationLine[];
  created_at: Date;
  updated_at: Date;
}

const toItem = (row: StockItemRow) => StockItem.restore({ sku: row.sku, onHand: row.on_hand, reserved: row.reserved });

export class StockRepository {
  async findItem(manager: EntityManager, sku: string): Promise<StockItem | undefined> {
    const rows = await manager.query<StockItemRow[]>(`SELECT sku, on_hand, reserved FROM stock_items WHERE sku = $1`, [
      sku,
    ]);
    return rows[0] && toItem(rows[0]);
  }

  /** The items of these SKUs that exist, locked for the rest of the transaction. */
  async lockItems(manager: EntityManager, skus: readonly string[]): Promise<Map<string, StockItem>> {
    if (skus.length === 0) return new Map();
    const rows = await manager.query<StockItemRow[]>(
      `SELECT sku, on_hand, reserved FROM stock_items WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE`,
      [[...new Set(skus)]],
    );
    return new Map(rows.map((row) => [row.sku, toItem(row)]));
  }

  /** The item of this SKU, locked; a new SKU starts with nothing on hand (and is gone again on rollback). */
  async lockOrCreateItem(manager: EntityManager, sku: string): Promise<StockItem> {
    await manager.query(`INSERT INTO stock_items (sku, on_hand) VALUES ($1, 0) ON CONFLICT (sku) DO NOTHING`, [sku]);
    const item = (await this.lockItems(manager, [sku])).get(sku);
    if (!item) throw new Error(`stock item ${sku} vanished after it was created`);
    return item;
  }

  async updateItems(manager: EntityManager, items: Iterable<StockItem>): Promise<void> {
    const levels = [...items].map((item) => item.snapshot);
    if (levels.length === 0) return;
    await manager.query(
      `UPDATE stock_items AS s
       SET on_hand = x.on_hand, reserved = x.reserved, version = s.version + 1, updated_at = now()
       FROM unnest($1::text[], $2::int[], $3::int[]) AS x(sku, on_hand, reserved)
       WHERE s.sku = x.sku`,
      [levels.map((l) => l.sku), levels.map((l) => l.onHand), levels.map((l) => l.reserved)],
    );
  }

  /** The order's reservation; with `lock`, locked for the rest of the transaction. */
  async findReservation(
    manager: EntityManager,
    orderId: string,
    { lock = false } = {},
  ): Promise<StockReservation | undefined> {
    const rows = await manager.query<ReservationRow[]>(
      `SELECT r.order_id, r.status, r.short_skus, r.created_at, r.updated_at,
         (SELECT coalesce(json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity) ORDER BY l.sku), '[]')
          FROM stock_reservation_lines l WHERE l.order_id = r.order_id) AS lines
       FROM stock_reservations r WHERE r.order_id = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [orderId],
    );
    const row = rows[0];
    return (
      row &&
      StockReservation.restore({
        orderId: row.order_id,
        status: row.status,
        lines: row.lines,
        shortSkus: row.short_skus,
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      })
    );
  }

  /**
   * Records an order's first reservation decision. A concurrent first decision for the same order makes this fail
   * on the primary key; the command is then retried and finds the decision that won.
   */
  async insertReservation(manager: EntityManager, reservation: StockReservation): Promise<void> {
    const s = reservation.snapshot;
    await manager.query(
      `INSERT INTO stock_reservations (order_id, status, short_skus, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [s.orderId, s.status, s.shortSkus, s.createdAt, s.updatedAt],
    );
    if (s.lines.length === 0) return;
    await manager.query(
      `INSERT INTO stock_reservation_lines (order_id, sku, quantity)
       SELECT $1, sku, quantity FROM unnest($2::text[], $3::int[]) AS x(sku, quantity)`,
      [s.orderId, s.lines.map((l) => l.sku), s.lines.map((l) => l.quantity)],
    );
  }

  /** A reservation's transition, with the stock it changed. */
  async updateReservation(
    manager: EntityManager,
    reservation: StockReservation,
    items: Iterable<StockItem>,
  ): Promise<void> {
    await this.updateItems(manager, items);
    const s = reservation.snapshot;
    await manager.query(`UPDATE stock_reservations SET status = $2, updated_at = $3 WHERE order_id = $1`, [
      s.orderId,
      s.status,
      s.updatedAt,
    ]);
  }
}
