import { Body, Controller, HttpCode, NotFoundException, Post, UseGuards } from '@nestjs/common';
import { ApiNoContentResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { SignedAccess, StandardWebhookSignature, ProblemResponses } from '@orderflow/platform';
import { GatewayCallbackDto, toResult } from './dto/gateway-callback.dto.js';
import { PaymentNotFound, PaymentsService } from './payments.service.js';

/**
 * Where the gateway reports the results of pending authorisations. 204 means stored; any other answer makes the
 * gateway send the callback again. The authorisation id must match the payment's own, so a result is only ever
 * applied to the request it answers. Callbacks carry the gateway's Standard Webhooks signature instead of a bearer
 * credential; an unsigned or tampered one is refused with 401 before its body is read.
 */
@ApiTags('gateway')
@SignedAccess()
@UseGuards(StandardWebhookSignature('PAYMENT_GATEWAY_WEBHOOK_SECRET'))
@ApiUnauthorizedResponse({ description: 'The signature does not verify' })
@Controller('gateway/webhooks')
export class GatewayWebhooksController {
  constructor(private readonly payments: PaymentsService) {}

  @Post()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Stored (or already known)' })
  @ProblemResponses({ 404: 'No payment for this reference yet; the gateway retries' })
  async receive(@Body() callback: GatewayCallbackDto): Promise<void> {
    try {
      await this.payments.recordGatewayResult(callback.reference, toResult(callback));
    } catch (err) {
      if (err instanceof PaymentNotFound) throw new NotFoundException('No payment for this reference');
      throw err;
    }
  }
}
