import { Module } from '@nestjs/common';
import { CallbackUrlsModule } from '../callback-urls/callback-urls.module.js';
import { OrderBacklog } from './order-backlog.js';
import { OrderStatusChanges } from './order-status-changes.js';
import { OrdersController } from './orders.controller.js';
import { OrderStatusUpdates } from './orders.handlers.js';
import { OrdersRepository } from './orders.repository.js';
import { OrdersService } from './orders.service.js';

@Module({
  imports: [CallbackUrlsModule],
  controllers: [OrdersController],
  providers: [OrdersService, OrdersRepository, OrderStatusUpdates, OrderBacklog, OrderStatusChanges],
  exports: [OrderStatusChanges],
})
export class OrdersModule {}
