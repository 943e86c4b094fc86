import { workContextOf } from '@orderflow/messaging';
import { Body, Controller, HttpCode, Post, Req, UnprocessableEntityException, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { SignedAccess, StandardWebhookSignature } from '@orderflow/platform';
import type { Request } from 'express';
import { CarrierDeliveryDto } from './dto/carrier-delivery.dto.js';
import { ShipmentResponse, toResponse } from './dto/shipment.response.js';
import { found } from './shipments.controller.js';
import { DeliveryReportMismatch, ShipmentsService } from './shipments.service.js';

/**
 * Where the carrier calls back (the URL we give it with each booking, CARRIER_WEBHOOK_URL). Any answer but 2xx makes
 * the carrier report again later, which covers a report that arrives before its booking has committed here.
 * Reports carry the carrier's Standard Webhooks signature instead of a bearer credential.
 */
@ApiTags('carrier')
@SignedAccess()
@UseGuards(StandardWebhookSignature('CARRIER_WEBHOOK_SECRET'))
@ApiUnauthorizedResponse({ description: 'The signature does not verify' })
@Controller('carrier')
export class CarrierWebhookController {
  constructor(private readonly shipments: ShipmentsService) {}

  @Post('deliveries')
  @HttpCode(200)
  @ApiOkResponse({ type: ShipmentResponse, description: 'Recorded, or already recorded' })
  async delivered(@Body() body: CarrierDeliveryDto, @Req() req: Request): Promise<ShipmentResponse> {
    try {
      const report = {
        carrierShipmentId: body.shipmentId,
        reference: body.reference,
        deliveredAt: new Date(body.deliveredAt),
      };
      return toResponse(await found(() => this.shipments.recordCarrierReport(report, workContextOf(req))));
    } catch (err) {
      if (err instanceof DeliveryReportMismatch) {
        throw new UnprocessableEntityException('The shipment was booked for another reference');
      }
      throw err;
    }
  }
}
