import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule } from '@orderflow/messaging';
import { DatabaseModule, PlatformModule, type ServiceIdentity } from '@orderflow/platform';
import { SchedulingModule } from '@orderflow/scheduling';
import type { PaymentServiceConfig } from './config.js';
import { schema } from './database.js';
import { PaymentsModule } from './payments/payments.module.js';

@Module({})
export class AppModule {
  static register(config: PaymentServiceConfig, identity: ServiceIdentity): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService(identity, config),
        DatabaseModule.forService(schema),
        MessagingModule.forService(),
        SchedulingModule.forRoot(),
        PaymentsModule,
      ],
    };
  }
}
