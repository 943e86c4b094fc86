import { Module } from '@nestjs/common';
import { SecretBox, SERVICE_CONFIG } from '@orderflow/platform';
import type { PaymentServiceConfig } from '../config.js';
import { AuthorizationPoll } from './authorization-poll.js';
import { AuthorizationPolling } from './authorization-polling.js';
import { GatewayFollowUps } from './gateway-follow-ups.js';
import { GatewayWebhooksController } from './gateway-webhooks.controller.js';
import { HttpPaymentGateway } from './http-payment-gateway.js';
import { PaymentGateway } from './payment-gateway.js';
import { PaymentsController } from './payments.controller.js';
import { PaymentSteps } from './payments.handlers.js';
import { PaymentsRepository } from './payments.repository.js';
import { PaymentsService } from './payments.service.js';

@Module({
  controllers: [PaymentsController, GatewayWebhooksController],
  providers: [
    {
      provide: PaymentGateway,
      inject: [SERVICE_CONFIG],
      useFactory: (config: PaymentServiceConfig) =>
        new HttpPaymentGateway({
          baseUrl: config.PAYMENT_GATEWAY_URL,
          timeoutMs: config.PAYMENT_GATEWAY_TIMEOUT_MS,
          callbackUrl: config.PAYMENT_WEBHOOK_URL,
          tokens: new SecretBox(config.PAYMENT_TOKEN_KEY),
        }),
    },
    PaymentsRepository,
    PaymentsService,
    PaymentSteps,
    GatewayFollowUps,
    AuthorizationPoll,
    AuthorizationPolling,
  ],
})
export class PaymentsModule {}
