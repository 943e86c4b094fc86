import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule } from '@orderflow/messaging';
import { DatabaseModule, LoadSheddingModule, PlatformModule, type ServiceIdentity } from '@orderflow/platform';
import { SchedulingModule } from '@orderflow/scheduling';
import type { OrderServiceConfig } from './config.js';
import { schema } from './database.js';
import { MerchantsModule } from './merchants/merchants.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { OrdersModule } from './orders/orders.module.js';

@Module({})
export class AppModule {
  static register(config: OrderServiceConfig, identity: ServiceIdentity): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService(identity, config),
        LoadSheddingModule.forService(config),
        DatabaseModule.forService(schema),
        MessagingModule.forService(),
        SchedulingModule.forRoot(),
        MerchantsModule,
        OrdersModule,
        NotificationsModule,
      ],
    };
  }
}
