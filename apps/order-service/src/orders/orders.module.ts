import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { OrderBacklog } from './order-backlog.js';
import { OrdersController } from './orders.controller.js';
import { OrderStatusUpdates } from './orders.handlers.js';
import { OrdersRepository } from './orders.repository.js';
import { OrdersService } from './orders.service.js';

@Module({
  imports: [NotificationsModule],
  controllers: [OrdersController],
  providers: [OrdersService, OrdersRepository, OrderStatusUpdates, OrderBacklog],
})
export class OrdersModule {}
