import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SignedAccess, StandardWebhookSignature, ProblemResponses } from '@orderflow/platform';
import { GatewayCallbackDto, toResult } from './dto/gateway-callback.dto.js';
import { PaymentsService } from './payments.service.js';

/**
 * Where the gateway reports the results of pending authorisations. 204 means stored; any other answer makes the
 * gateway send the callback again. The authorisation id must match the payment's own, so a result is only ever
 * applied to the request it answers. Callbacks carry the gateway's Standard Webhooks signature instead of a bearer
 * credential; an unsigned or tampered one is refused with 401 before its body is read.
 */
@ApiTags('gateway')
@SignedAccess()
@UseGuards(StandardWebhookSignature('PAYMENT_GATEWAY_WEBHOOK_SECRET'))
@ProblemResponses(400, 413, { 401: 'The signature does not verify, or is older than five minutes' }, 429, 500, 503)
@Controller('gateway/webhooks')
export class GatewayWebhooksController {
  constructor(private readonly payments: PaymentsService) {}

  @Post()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Receive a payment gateway callback',
    description:
      'Called by the payment gateway, signed with its Standard Webhooks secret (PAYMENT_GATEWAY_WEBHOOK_SECRET), not ' +
      'by people: the result of an authorisation that was pending. It is applied only to the payment whose ' +
      'authorisation it answers, and the saga is told asynchronously. Idempotent: a result already known answers ' +
      '204 again, so the gateway may retry any other answer. Rate-limited by the caller’s address.',
  })
  @ApiNoContentResponse({ description: 'Stored (or already known)' })
  @ProblemResponses({ 404: 'No payment for this reference yet; the gateway retries' })
  async receive(@Body() callback: GatewayCallbackDto): Promise<void> {
    await this.payments.recordGatewayResult(callback.reference, toResult(callback));
  }
}
