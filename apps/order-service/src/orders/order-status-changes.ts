/**
 * The fact the orders feature tells the features that follow it: an order moved to a new status. Each listener is
 * awaited inside the transaction that records the status, so what it writes commits if and only if the status does,
 * and a listener that throws rolls the status back with it (the message is then retried). Listeners subscribe in
 * their own onModuleInit, before the application starts consuming; orders names none of them, so the dependency
 * points from the follower (notifications) to orders and never back.
 */
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Order } from './order.js';

export interface OrderStatusListener {
  /** `order` has just taken a new status; `manager` is the transaction that records it. */
  statusChanged(manager: EntityManager, order: Order, now: Date): Promise<void>;
}

@Injectable()
export class OrderStatusChanges {
  private readonly listeners: OrderStatusListener[] = [];

  subscribe(listener: OrderStatusListener): void {
    this.listeners.push(listener);
  }

  async changed(manager: EntityManager, order: Order, now: Date): Promise<void> {
    for (const listener of this.listeners) await listener.statusChanged(manager, order, now);
  }
}
