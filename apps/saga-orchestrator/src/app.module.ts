import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule } from '@orderflow/messaging';
import { DatabaseModule, PlatformModule, type ServiceIdentity } from '@orderflow/platform';
import { SchedulingModule } from '@orderflow/scheduling';
import type { SagaServiceConfig } from './config.js';
import { ConsoleModule } from './console/console.module.js';
import { schema } from './database.js';
import { OrderSagaModule } from './order-saga/order-saga.module.js';
import { SagaRetention } from './saga-retention.js';

@Module({})
export class AppModule {
  static register(config: SagaServiceConfig, identity: ServiceIdentity): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService(identity, config),
        DatabaseModule.forService(schema),
        MessagingModule.forService(),
        SchedulingModule.forRoot(),
        OrderSagaModule,
        ConsoleModule.register(config, identity),
      ],
      providers: [SagaRetention],
    };
  }
}
