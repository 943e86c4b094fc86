import { workContextOf } from '@orderflow/messaging';
import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SignedAccess, StandardWebhookSignature, ProblemResponses } from '@orderflow/platform';
import type { Request } from 'express';
import { CarrierDeliveryDto } from './dto/carrier-delivery.dto.js';
import { ShipmentResponse, toResponse } from './dto/shipment.response.js';
import { ShipmentsService } from './shipments.service.js';

/**
 * Where the carrier calls back (the URL we give it with each booking, CARRIER_WEBHOOK_URL). Any answer but 2xx makes
 * the carrier report again later. Reports carry the carrier's Standard Webhooks signature instead of a bearer
 * credential.
 *
 * The carrier may report a delivery moments after it answered the booking, before that answer is recorded here (the
 * booker records it in a transaction of its own, after the call). A report whose shipment id is not recorded yet, for
 * an order whose shipment is still BOOKING, is answered 409 with `Retry-After: 1`: the booking is being recorded,
 * report again. A report naming a shipment and an order this service does not know is 404; one naming a shipment
 * booked for another order, 422.
 */
@ApiTags('carrier')
@SignedAccess()
@UseGuards(StandardWebhookSignature('CARRIER_WEBHOOK_SECRET'))
@ProblemResponses(400, 413, { 401: 'The signature does not verify, or is older than five minutes' }, 429, 500, 503)
@Controller('carrier')
export class CarrierWebhookController {
  constructor(private readonly shipments: ShipmentsService) {}

  @Post('deliveries')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Receive a carrier’s delivery report',
    description:
      'Called by the carrier, signed with its Standard Webhooks secret (CARRIER_WEBHOOK_SECRET), not by people. ' +
      'Records the delivery at the time the carrier reports and tells the order saga, which completes the order ' +
      'asynchronously. Idempotent: a report already recorded answers 200 again and changes nothing, so the carrier ' +
      'may retry any answer but 2xx. Rate-limited by the caller’s address.',
  })
  @ApiOkResponse({ type: ShipmentResponse, description: 'Recorded, or already recorded' })
  @ProblemResponses({
    404: 'No shipment with this id, and no booking under this reference',
    409: {
      description: 'The booking of this reference is still being recorded; report again after Retry-After',
      retryAfter: true,
    },
    422: 'The shipment was booked for another reference',
  })
  async delivered(@Body() body: CarrierDeliveryDto, @Req() req: Request): Promise<ShipmentResponse> {
    const report = {
      carrierShipmentId: body.shipmentId,
      reference: body.reference,
      deliveredAt: new Date(body.deliveredAt),
    };
    return toResponse(await this.shipments.recordCarrierReport(report, workContextOf(req)));
  }
}
