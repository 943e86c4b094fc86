import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@orderflow/platform';
import type { OrderServiceConfig } from '../config.js';
import { CallbackUrls } from './callback-urls.js';

/**
 * Which callback URLs orderflow may call: checked when an order is placed (CallbackUrls) and again at every connection
 * by notification delivery (callback-url.ts). A folder of its own because both orders and notifications apply it and
 * neither owns it.
 */
@Module({
  providers: [
    {
      provide: CallbackUrls,
      inject: [SERVICE_CONFIG],
      useFactory: (config: OrderServiceConfig) =>
        new CallbackUrls(
          { allowPrivateNetworks: config.CALLBACK_ALLOW_PRIVATE_NETWORKS },
          config.CALLBACK_RESOLVE_TIMEOUT_MS,
        ),
    },
  ],
  exports: [CallbackUrls],
})
export class CallbackUrlsModule {}
