/**
 * The order as merchants see it: what was ordered, what it costs, and where it stands. The saga decides what
 * happens to an order; this aggregate only records the outcome the saga reports and refuses what can no longer be.
 */
// Addresses and cancellation reasons are the contract's words: every service reads them as they are.
import type { Address, CancellationReason } from '@orderflow/contracts';
import { Conflict, Unprocessable } from '@orderflow/platform/domain-errors';

export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderLine {
  sku: string;
  quantity: number;
  unitPrice: number;
}

export interface StatusChange {
  status: OrderStatus;
  at: string;
}

export interface OrderState {
  id: string;
  /** The merchant that placed it; absent only on orders placed before merchants existed. */
  merchantId?: string;
  customerId: string;
  currency: string;
  items: OrderLine[];
  totalAmount: number;
  shippingAddress: Address;
  callbackUrl?: string;
  status: OrderStatus;
  statusReason?: CancellationReason;
  history: StatusChange[];
  cancellationRequestedAt?: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** The order's lifecycle: where each status may go next. */
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['CONFIRMED', 'CANCELLED'],
  CONFIRMED: ['SHIPPED', 'CANCELLED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
};

/** Orders two statuses of one instant in the history: ORDER_STATUSES lists them in lifecycle order. */
const rank = (status: OrderStatus): number => ORDER_STATUSES.indexOf(status);

/** Whether `to` lies ahead of `from` in the lifecycle, any number of steps on. */
function isAhead(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].some((next) => next === to || isAhead(next, to));
}

/**
 * What a status report did: moved the order on (`changed`), only added to its history a step the order had already
 * been moved past by a later report (`amended`), or nothing (`stale`: a duplicate, or a report the lifecycle cannot
 * place).
 */
export type StatusRecorded = 'changed' | 'amended' | 'stale';

export class OrderTotalTooLarge extends Unprocessable {
  constructor() {
    super('the order total exceeds the largest amount orderflow can represent');
  }
}

export class OrderNotCancellable extends Conflict {
  constructor(readonly status: OrderStatus) {
    super(`an order that is ${status} can no longer be cancelled`);
  }
}

export class Order {
  private constructor(private state: OrderState) {}

  static place(input: {
    id: string;
    merchantId: string;
    customerId: string;
    currency: string;
    items: OrderLine[];
    shippingAddress: Address;
    callbackUrl?: string;
    now: Date;
  }): Order {
    const totalAmount = input.items.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
    if (!Number.isSafeInteger(totalAmount)) throw new OrderTotalTooLarge();
    const at = input.now.toISOString();
    return new Order({
      id: input.id,
      merchantId: input.merchantId,
      customerId: input.customerId,
      currency: input.currency,
      items: input.items.map((l) => ({ ...l })),
      totalAmount,
      shippingAddress: { ...input.shippingAddress },
      callbackUrl: input.callbackUrl,
      status: 'PENDING',
      history: [{ status: 'PENDING', at }],
      createdAt: at,
      updatedAt: at,
      version: 1,
    });
  }

  static restore(state: OrderState): Order {
    return new Order(state);
  }

  get snapshot(): Readonly<OrderState> {
    return this.state;
  }

  /**
   * Records a status the saga reports, whatever order the reports arrive in: with several replicas (or a retry) a
   * later report can be handled before an earlier one, and none may be lost for it. A report ahead of the current
   * status moves the order there at once, skipping what has not arrived yet; a report the order was moved past is
   * added to the history in its place by time, without moving the order back; a duplicate changes nothing.
   */
  recordStatus(status: OrderStatus, at: Date, reason?: CancellationReason): StatusRecorded {
    const when = at.toISOString();
    const current = this.state.status;
    if (this.state.history.some((h) => h.status === status)) return 'stale';
    if (isAhead(current, status)) {
      this.state = {
        ...this.state,
        status,
        statusReason: status === 'CANCELLED' ? (reason ?? 'CUSTOMER_CANCELLED') : this.state.statusReason,
        history: [...this.state.history, { status, at: when }],
        updatedAt: when,
      };
      return 'changed';
    }
    if (isAhead(status, current)) {
      const history = [...this.state.history, { status, at: when }].sort(
        (a, b) => Date.parse(a.at) - Date.parse(b.at) || rank(a.status) - rank(b.status),
      );
      this.state = { ...this.state, history };
      return 'amended';
    }
    return 'stale';
  }

  /** Asks for cancellation; the saga decides and reports CANCELLED. True the first time it is asked. */
  requestCancellation(now: Date): boolean {
    if (this.state.status !== 'PENDING' && this.state.status !== 'CONFIRMED')
      throw new OrderNotCancellable(this.state.status);
    if (this.state.cancellationRequestedAt) return false;
    this.state = { ...this.state, cancellationRequestedAt: now.toISOString(), updatedAt: now.toISOString() };
    return true;
  }
}
