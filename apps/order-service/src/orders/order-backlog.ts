import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { outboxLagSignal } from '@orderflow/messaging';
import { BacklogMonitor, SERVICE_CONFIG } from '@orderflow/platform';
import { DataSource } from 'typeorm';
import type { OrderServiceConfig } from '../config.js';
import { OrdersRepository } from './orders.repository.js';

/**
 * What the order service cannot carry any more of, as signals for load shedding (`POST /orders` carries
 * @ShedsLoadWhenBacklogged). Orders in flight is the end-to-end backlog: it grows when the saga or any service behind
 * it falls behind, whichever one it is. The outbox lag is this service's own: its relay cannot get `order.placed`
 * to the broker in time.
 */
@Injectable()
export class OrderBacklog implements OnModuleInit {
  constructor(
    private readonly monitor: BacklogMonitor,
    private readonly orders: OrdersRepository,
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: OrderServiceConfig,
  ) {}

  onModuleInit(): void {
    const bound = this.config.LOAD_SHEDDING_MAX_ORDERS_IN_FLIGHT;
    this.monitor.register({
      name: 'orders_in_flight',
      description: 'the number of orders placed and not yet confirmed or cancelled',
      unit: '',
      bound,
      // One past the bound is all a verdict needs.
      read: () => this.orders.countPending(this.dataSource.manager, bound + 1),
    });
    this.monitor.register(
      outboxLagSignal((sql) => this.dataSource.query(sql), this.config.LOAD_SHEDDING_MAX_OUTBOX_LAG_SECONDS),
    );
  }
}
