import { ApiUuidParam, ProblemResponses } from '@orderflow/platform';
import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ListPaymentsQuery } from './dto/list-payments.query.js';
import { PaymentResponse, toResponse } from './dto/payment.response.js';
import { PaymentsService } from './payments.service.js';

@ApiTags('payments')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
@Controller('payments')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Get()
  @ApiOperation({
    summary: 'List an order’s payments',
    description:
      'Operators only: the order’s payments with their status (authorised, captured, voided, refunded, declined) ' +
      'and amounts; never the card token. Read-only.',
  })
  @ApiExtraModels(PaymentResponse)
  @ApiOkResponse({
    description: 'The order’s payment, if it has one (an order has at most one: a unique index)',
    schema: { type: 'array', maxItems: 1, items: { $ref: getSchemaPath(PaymentResponse) } },
  })
  async list(@Query() query: ListPaymentsQuery): Promise<PaymentResponse[]> {
    return (await this.payments.listByOrder(query.orderId)).map(toResponse);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Read a payment',
    description: 'Operators only: the payment with its status and amounts; never the card token. Read-only.',
  })
  @ApiUuidParam('id', 'The payment’s id')
  @ApiOkResponse({ type: PaymentResponse })
  @ProblemResponses({ 404: 'No payment with this id' })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<PaymentResponse> {
    return toResponse(await this.payments.get(id));
  }
}
