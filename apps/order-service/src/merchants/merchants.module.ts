import { Global, Module } from '@nestjs/common';
import { MerchantAuthenticator } from '@orderflow/platform';
import { MerchantApiKeys } from './merchant-api-keys.js';
import { MerchantsController } from './merchants.controller.js';
import { MerchantsRepository } from './merchants.repository.js';
import { MerchantsService } from './merchants.service.js';

/**
 * Global so that the platform's access guards find this service's MerchantAuthenticator: the order service is the
 * one place merchant API keys are known.
 */
@Global()
@Module({
  controllers: [MerchantsController],
  providers: [MerchantsRepository, MerchantsService, { provide: MerchantAuthenticator, useClass: MerchantApiKeys }],
  exports: [MerchantAuthenticator, MerchantsService],
})
export class MerchantsModule {}
