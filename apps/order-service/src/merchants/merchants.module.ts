import { Global, Module } from '@nestjs/common';
import { MerchantAuthenticator } from '@orderflow/platform';
import { WebhookSigningSecrets } from '../notifications/webhook-signing-secrets.js';
import { MerchantApiKeys } from './merchant-api-keys.js';
import { MerchantsController } from './merchants.controller.js';
import { MerchantsRepository } from './merchants.repository.js';
import { MerchantsService } from './merchants.service.js';

/**
 * Global so that the platform's access guards find this service's MerchantAuthenticator: the order service is the
 * one place merchant API keys are known. It binds the notifications feature's port WebhookSigningSecrets, so that
 * notifications needs nothing of merchants but that port.
 */
@Global()
@Module({
  controllers: [MerchantsController],
  providers: [
    MerchantsRepository,
    MerchantsService,
    { provide: MerchantAuthenticator, useClass: MerchantApiKeys },
    { provide: WebhookSigningSecrets, useExisting: MerchantsService },
  ],
  exports: [MerchantAuthenticator, WebhookSigningSecrets],
})
export class MerchantsModule {}
