import { Injectable } from '@nestjs/common';
import { type DataOf, OrderStatusChanged } from '@orderflow/contracts';
import { HandleMessage, type IncomingMessage, PermanentError, type UnitOfWork } from '@orderflow/messaging';
import { OrdersRepository } from './orders.repository.js';

/** The saga reports each new status; the order records it (duplicates and stale reports change nothing). */
@Injectable()
export class OrderStatusUpdates {
  constructor(private readonly orders: OrdersRepository) {}

  @HandleMessage(OrderStatusChanged)
  async onStatusChanged(message: IncomingMessage<DataOf<typeof OrderStatusChanged>>, uow: UnitOfWork): Promise<void> {
    const { orderId, status, statusReason } = message.data;
    const order = await this.orders.find(uow.manager, orderId);
    if (!order) throw new PermanentError(`no order ${orderId}`);
    if (order.recordStatus(status, new Date(message.time), statusReason)) await this.orders.update(uow.manager, order);
  }
}
