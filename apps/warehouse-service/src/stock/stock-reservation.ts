/**
 * What the warehouse holds for one order: every line reserved, or nothing at all. The first decision for an order is
 * final: a command the saga sends again (with a new message id, so the inbox does not catch it) gets the same answer
 * and changes no stock.
 *
 *   (none) ──reserve──▶ RESERVED ──release──▶ RELEASED
 *      │                    └──────pick─────▶ PICKED
 *      ├──reserve, short──▶ REFUSED
 *      └──release─────────▶ RELEASED, with no lines
 *
 * The last arrow closes a reordering window: a reserve command that fails and is retried later can arrive after the
 * saga has given up and released the order. That release leaves a record, so the late reserve is refused instead of
 * holding stock nobody will ever release.
 */
import { type StockItem, StockLevelsInconsistent } from './stock-item.js';

export const RESERVATION_STATUSES = ['RESERVED', 'REFUSED', 'RELEASED', 'PICKED'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export interface ReservationLine {
  sku: string;
  quantity: number;
}

export interface ReservationState {
  orderId: string;
  status: ReservationStatus;
  /** What was reserved, one line per SKU, in SKU order; empty if nothing ever was. */
  lines: ReservationLine[];
  /** Why a reservation was REFUSED: the SKUs that were unknown or short. */
  shortSkus: string[];
  createdAt: string;
  updatedAt: string;
}

/** The answer to a reserve command: every line reserved, or the SKUs that were short. */
export type ReserveAnswer = { reserved: true } | { reserved: false; shortSkus: string[] };

/** Goods that were picked have left; giving them back to stock would count goods that are not there. */
export class ReservationAlreadyPicked extends Error {
  constructor(readonly orderId: string) {
    super(`the stock of order ${orderId} was picked and can no longer be released`);
  }
}

export class NothingToPick extends Error {
  constructor(
    readonly orderId: string,
    readonly status: ReservationStatus,
  ) {
    super(`order ${orderId} holds no stock to pick (its reservation is ${status})`);
  }
}

/** One line per SKU (an order may name a SKU twice), in SKU order. */
export function mergeLines(lines: readonly ReservationLine[]): ReservationLine[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of lines) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku]
    .map(([sku, quantity]) => ({ sku, quantity }))
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

export class StockReservation {
  private constructor(private state: ReservationState) {}

  /**
   * Reserves every line from `stock` (the order's items, locked by the caller), or none: an unknown SKU or one with
   * less available than asked refuses the whole order, and then no item is changed.
   */
  static reserve(
    orderId: string,
    requested: readonly ReservationLine[],
    stock: ReadonlyMap<string, StockItem>,
    now: Date,
  ): StockReservation {
    const lines = mergeLines(requested);
    const shortSkus = lines
      .filter(({ sku, quantity }) => (stock.get(sku)?.available ?? 0) < quantity)
      .map(({ sku }) => sku);
    const at = now.toISOString();
    if (shortSkus.length > 0) {
      return new StockReservation({ orderId, status: 'REFUSED', lines: [], shortSkus, createdAt: at, updatedAt: at });
    }
    for (const { sku, quantity } of lines) itemOf(stock, sku).reserve(quantity);
    return new StockReservation({ orderId, status: 'RESERVED', lines, shortSkus: [], createdAt: at, updatedAt: at });
  }

  /** A release that came before any reservation: records that this order must not hold stock any more. */
  static releasedBeforeReserved(orderId: string, now: Date): StockReservation {
    const at = now.toISOString();
    return new StockReservation({
      orderId,
      status: 'RELEASED',
      lines: [],
      shortSkus: [],
      createdAt: at,
      updatedAt: at,
    });
  }

  static restore(state: ReservationState): StockReservation {
    return new StockReservation(state);
  }

  get snapshot(): Readonly<ReservationState> {
    return this.state;
  }

  /** The SKUs whose items a release or pick changes, to be locked (in this order) before calling either. */
  get heldSkus(): string[] {
    return this.state.status === 'RESERVED' ? this.state.lines.map((l) => l.sku) : [];
  }

  /** The same answer for every reserve command of this order, however often it is sent. */
  answerToReserve(requested: readonly ReservationLine[]): ReserveAnswer {
    if (this.state.status === 'REFUSED') return { reserved: false, shortSkus: this.state.shortSkus };
    if (this.state.lines.length > 0) return { reserved: true };
    // Released before it was reserved: nothing was, and nothing will be.
    return { reserved: false, shortSkus: mergeLines(requested).map((l) => l.sku) };
  }

  /**
   * Gives the reserved stock back. True if stock changed; false if there was nothing to give back (refused, or
   * released already), which is still a successful release.
   */
  release(stock: ReadonlyMap<string, StockItem>, now: Date): boolean {
    if (this.state.status === 'PICKED') throw new ReservationAlreadyPicked(this.state.orderId);
    if (this.state.status !== 'RESERVED') return false;
    for (const { sku, quantity } of this.state.lines) itemOf(stock, sku).release(quantity);
    this.state = { ...this.state, status: 'RELEASED', updatedAt: now.toISOString() };
    return true;
  }

  /** Turns the reservation into a pick: the goods leave stock. True if stock changed; false if picked already. */
  pick(stock: ReadonlyMap<string, StockItem>, now: Date): boolean {
    if (this.state.status === 'PICKED') return false;
    if (this.state.status !== 'RESERVED') throw new NothingToPick(this.state.orderId, this.state.status);
    for (const { sku, quantity } of this.state.lines) itemOf(stock, sku).pick(quantity);
    this.state = { ...this.state, status: 'PICKED', updatedAt: now.toISOString() };
    return true;
  }
}

function itemOf(stock: ReadonlyMap<string, StockItem>, sku: string): StockItem {
  const item = stock.get(sku);
  if (!item) throw new StockLevelsInconsistent(`the reservation holds ${sku}, but its stock item was not given`);
  return item;
}
