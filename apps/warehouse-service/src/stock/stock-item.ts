/**
 * One SKU's stock: what is on hand, and how much of it is promised to orders. What is not promised is available.
 * Nothing is ever promised twice: reserving more than is available, or counting fewer on hand than is reserved,
 * is refused here (and, last line of defence, by the table's CHECK).
 */
import { Conflict } from '@orderflow/platform/domain-errors';

/** The same rule as the `Sku` of the message contracts, so a SKU the REST edge accepts can be ordered. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAX_ON_HAND = 1_000_000_000;

export interface StockLevel {
  sku: string;
  onHand: number;
  reserved: number;
}

export class OnHandBelowReserved extends Conflict {
  constructor(
    readonly sku: string,
    readonly onHand: number,
    readonly reserved: number,
  ) {
    super(`${reserved} of ${sku} are reserved for orders; on hand cannot drop to ${onHand}`);
  }
}

/** A change the reservation rules should have made impossible: the stored levels and reservations disagree. */
export class StockLevelsInconsistent extends Error {}

export class StockItem {
  private constructor(private state: StockLevel) {}

  static restore(state: StockLevel): StockItem {
    return new StockItem({ ...state });
  }

  get snapshot(): Readonly<StockLevel> {
    return this.state;
  }

  get available(): number {
    return this.state.onHand - this.state.reserved;
  }

  /** A count of the shelf: sets what is on hand, but never below what orders were promised. */
  setOnHand(onHand: number): void {
    if (onHand < this.state.reserved) throw new OnHandBelowReserved(this.state.sku, onHand, this.state.reserved);
    this.state = { ...this.state, onHand };
  }

  reserve(quantity: number): void {
    if (quantity > this.available) {
      throw new StockLevelsInconsistent(`${quantity} of ${this.state.sku} asked, ${this.available} available`);
    }
    this.state = { ...this.state, reserved: this.state.reserved + quantity };
  }

  release(quantity: number): void {
    this.takeFromReserved(quantity);
    this.state = { ...this.state, reserved: this.state.reserved - quantity };
  }

  /** The reserved goods leave the warehouse. */
  pick(quantity: number): void {
    this.takeFromReserved(quantity);
    this.state = { ...this.state, onHand: this.state.onHand - quantity, reserved: this.state.reserved - quantity };
  }

  private takeFromReserved(quantity: number): void {
    if (quantity > this.state.reserved) {
      throw new StockLevelsInconsistent(`${quantity} of ${this.state.sku} to take, ${this.state.reserved} reserved`);
    }
  }
}
