import { Injectable } from '@nestjs/common';
import { type DataOf, OrderStatusChanged } from '@orderflow/contracts';
import { HandleMessage, type IncomingMessage, PermanentError, type UnitOfWork } from '@orderflow/messaging';
import { OrderStatusChanges } from './order-status-changes.js';
import { OrdersRepository } from './orders.repository.js';

/**
 * The saga reports each new status; the order records it, in whatever order the reports arrive (Order.recordStatus),
 * and, in the same transaction, tells the features that follow orders of a status it moved to (OrderStatusChanges:
 * the merchant's notification). The order is read locked: with several replicas, two reports about one order are
 * often handled at the same moment, and the second then waits for the first instead of failing its optimistic save
 * and being retried a second later (measured with two replicas, bench/RESULTS.md).
 */
@Injectable()
export class OrderStatusUpdates {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly statusChanges: OrderStatusChanges,
  ) {}

  @HandleMessage(OrderStatusChanged)
  async onStatusChanged(message: IncomingMessage<DataOf<typeof OrderStatusChanged>>, uow: UnitOfWork): Promise<void> {
    const { orderId, status, statusReason } = message.data;
    const order = await this.orders.find(uow.manager, orderId, { forUpdate: true });
    if (!order) throw new PermanentError(`no order ${orderId}`);
    const recorded = order.recordStatus(status, new Date(message.time), statusReason);
    if (recorded === 'stale') return;
    await this.orders.update(uow.manager, order);
    // A late report only completes the history: the merchant has already been told of the status it led to.
    if (recorded === 'changed') await this.statusChanges.changed(uow.manager, order, new Date());
  }
}
