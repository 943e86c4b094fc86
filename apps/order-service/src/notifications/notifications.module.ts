import { Module } from '@nestjs/common';
import { ORDERFLOW_VERSION, SERVICE_CONFIG } from '@orderflow/platform';
import type { OrderServiceConfig } from '../config.js';
import { OrdersModule } from '../orders/orders.module.js';
import { NotificationDispatcher } from './notification-dispatcher.js';
import { NotificationsController } from './notifications.controller.js';
import { NotificationsRepository } from './notifications.repository.js';
import { NotificationsService } from './notifications.service.js';
import { WebhookDelivery } from './webhook-delivery.js';

/**
 * Merchant notifications: creation with each status change, delivery on the durable scheduler, and their API.
 * It follows orders (OrderStatusChanges) and signs with the merchant's secrets through its own port,
 * WebhookSigningSecrets, which the global MerchantsModule binds; neither orders nor merchants imports this module.
 */
@Module({
  imports: [OrdersModule],
  controllers: [NotificationsController],
  providers: [
    NotificationsRepository,
    NotificationsService,
    NotificationDispatcher,
    {
      provide: WebhookDelivery,
      inject: [SERVICE_CONFIG],
      useFactory: (config: OrderServiceConfig) =>
        new WebhookDelivery({
          timeoutMs: config.NOTIFICATION_TIMEOUT_MS,
          maxResponseBytes: config.NOTIFICATION_MAX_RESPONSE_BYTES,
          acknowledgementBody: config.NOTIFICATION_ACK_BODY,
          allowPrivateNetworks: config.CALLBACK_ALLOW_PRIVATE_NETWORKS,
          userAgent: `orderflow-notifications/${ORDERFLOW_VERSION}`,
        }),
    },
  ],
})
export class NotificationsModule {}
