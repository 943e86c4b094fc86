import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@orderflow/platform';
import type { LogisticsServiceConfig } from '../config.js';
import { Carrier } from './carrier.js';
import { CarrierWebhookController } from './carrier-webhook.controller.js';
import { CarrierDeliveryPoll } from './delivery-poll.js';
import { CarrierDeliveryPolling } from './delivery-polling.js';
import { HttpCarrier } from './http-carrier.js';
import { ShipmentBooker } from './shipment-booker.js';
import { ShipmentsController } from './shipments.controller.js';
import { ShipmentBooking } from './shipments.handlers.js';
import { ShipmentsRepository } from './shipments.repository.js';
import { ShipmentsService } from './shipments.service.js';

@Module({
  controllers: [ShipmentsController, CarrierWebhookController],
  providers: [
    ShipmentsService,
    ShipmentsRepository,
    ShipmentBooking,
    ShipmentBooker,
    CarrierDeliveryPoll,
    CarrierDeliveryPolling,
    {
      provide: Carrier,
      inject: [SERVICE_CONFIG],
      useFactory: (config: LogisticsServiceConfig) =>
        new HttpCarrier({
          url: config.CARRIER_URL,
          timeoutMs: config.CARRIER_TIMEOUT_MS,
          webhookUrl: config.CARRIER_WEBHOOK_URL,
        }),
    },
  ],
})
export class ShipmentsModule {}
