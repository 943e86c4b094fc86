/**
 * Orders in the order service's own database. Saves are optimistic: an update names the version it read, and a
 * conflicting writer makes it fail with OrderChangedConcurrently (a transient error: the message or request is
 * retried and re-reads the order), so no change is ever lost to a concurrent one.
 */
import { TransientError } from '@orderflow/messaging';
import { encodeCursor } from '@orderflow/platform';
import type { EntityManager } from 'typeorm';
import { Order, type OrderState, type OrderStatus } from './order.js';

export class OrderChangedConcurrently extends TransientError {
  constructor(id: string) {
    super(`order ${id} was changed concurrently`);
  }
}

interface OrderRow {
  id: string;
  merchant_id: string | null;
  customer_id: string;
  currency: string;
  items: OrderState['items'];
  total_amount: string;
  shipping_address: OrderState['shippingAddress'];
  callback_url: string | null;
  status: OrderStatus;
  status_reason: OrderState['statusReason'] | null;
  history: OrderState['history'];
  cancellation_requested_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const COLUMNS = `id, merchant_id, customer_id, currency, items, total_amount, shipping_address, callback_url, status, status_reason,
  history, cancellation_requested_at, created_at, updated_at, version`;

function toOrder(row: OrderRow): Order {
  return Order.restore({
    id: row.id,
    merchantId: row.merchant_id ?? undefined,
    customerId: row.customer_id,
    currency: row.currency,
    items: row.items,
    totalAmount: Number(row.total_amount),
    shippingAddress: row.shipping_address,
    callbackUrl: row.callback_url ?? undefined,
    status: row.status,
    statusReason: row.status_reason ?? undefined,
    history: row.history,
    cancellationRequestedAt: row.cancellation_requested_at?.toISOString(),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
  });
}

export interface OrderPage {
  orders: Order[];
  nextCursor?: string;
}

export class OrdersRepository {
  async insert(manager: EntityManager, order: Order): Promise<void> {
    const s = order.snapshot;
    await manager.query(
      `INSERT INTO orders (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        s.id,
        s.merchantId ?? null,
        s.customerId,
        s.currency,
        JSON.stringify(s.items),
        s.totalAmount,
        JSON.stringify(s.shippingAddress),
        s.callbackUrl ?? null,
        s.status,
        s.statusReason ?? null,
        JSON.stringify(s.history),
        s.cancellationRequestedAt ?? null,
        s.createdAt,
        s.updatedAt,
        s.version,
      ],
    );
  }

  async update(manager: EntityManager, order: Order): Promise<void> {
    const s = order.snapshot;
    const [, affected] = await manager.query<[unknown, number]>(
      `UPDATE orders SET status = $3, status_reason = $4, history = $5, cancellation_requested_at = $6, updated_at = $7,
         version = version + 1
       WHERE id = $1 AND version = $2`,
      [
        s.id,
        s.version,
        s.status,
        s.statusReason ?? null,
        JSON.stringify(s.history),
        s.cancellationRequestedAt ?? null,
        s.updatedAt,
      ],
    );
    if (affected !== 1) throw new OrderChangedConcurrently(s.id);
  }

  /**
   * `forUpdate` locks the row until the transaction ends: a writer that would otherwise race another one on the same
   * order (two replicas handling two reports about it at once) waits for it and reads what it wrote, instead of
   * failing with OrderChangedConcurrently and going through a delayed retry.
   */
  async find(manager: EntityManager, id: string, options: { forUpdate?: boolean } = {}): Promise<Order | undefined> {
    const rows = await manager.query<OrderRow[]>(
      `SELECT ${COLUMNS} FROM orders WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] && toOrder(rows[0]);
  }

  /**
   * PENDING orders, counted up to `limit` and no further: enough to compare with a bound, and it stays a short walk
   * of orders_status_created however many there are, which is when it is read most.
   */
  async countPending(manager: EntityManager, limit: number): Promise<number> {
    const [{ count }] = await manager.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM (SELECT 1 FROM orders WHERE status = 'PENDING' LIMIT $1) AS pending`,
      [limit],
    );
    return count;
  }

  /** Newest first, by (created_at, id) keyset: stable under concurrent inserts, no OFFSET scans. */
  async list(
    manager: EntityManager,
    filter: {
      merchantId?: string;
      status?: OrderStatus;
      customerId?: string;
      limit: number;
      after?: { createdAt: string; id: string };
    },
  ): Promise<OrderPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.merchantId) where.push(`merchant_id = $${params.push(filter.merchantId)}`);
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.customerId) where.push(`customer_id = $${params.push(filter.customerId)}`);
    if (filter.after) {
      where.push(
        `(created_at, id) < ($${params.push(filter.after.createdAt)}::timestamptz, $${params.push(filter.after.id)}::uuid)`,
      );
    }
    const rows = await manager.query<OrderRow[]>(
      `SELECT ${COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${params.push(filter.limit + 1)}`,
      params,
    );
    const orders = rows.slice(0, filter.limit).map(toOrder);
    const last = orders.at(-1)?.snapshot;
    return {
      orders,
      nextCursor:
        rows.length > filter.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined,
    };
  }
}
