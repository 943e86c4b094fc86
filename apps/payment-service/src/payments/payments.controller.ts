import { ProblemResponses } from '@orderflow/platform';
import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ListPaymentsQuery } from './dto/list-payments.query.js';
import { PaymentResponse, toResponse } from './dto/payment.response.js';
import { PaymentNotFound, PaymentsService } from './payments.service.js';

@ApiTags('payments')
@ProblemResponses(401, 429, 500)
@Controller('payments')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Get()
  @ApiOkResponse({ type: [PaymentResponse], description: 'The order’s payments (at most one today)' })
  async list(@Query() query: ListPaymentsQuery): Promise<PaymentResponse[]> {
    return (await this.payments.listByOrder(query.orderId)).map(toResponse);
  }

  @Get(':id')
  @ApiOkResponse({ type: PaymentResponse })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<PaymentResponse> {
    try {
      return toResponse(await this.payments.get(id));
    } catch (err) {
      if (err instanceof PaymentNotFound) throw new NotFoundException('No payment with this id');
      throw err;
    }
  }
}
