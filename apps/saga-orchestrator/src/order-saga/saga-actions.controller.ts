import {
  Body,
  ConflictException,
  Controller,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Messaging } from '@orderflow/messaging';
import { ApiUuidParam, CurrentPrincipal, type Principal, ProblemResponses } from '@orderflow/platform';
import { type OperatorAction, SagaActionNotAllowed, SagaStore } from '@orderflow/saga';
import { IsString, Length } from 'class-validator';
import { DataSource } from 'typeorm';
import { OrderSagaHandlers } from './order-saga.handlers.js';
import { orderSaga } from './order-saga.js';

export class OperatorActionDto {
  @ApiProperty({
    description: 'Why: kept in the saga history with who did it',
    example: 'refunded by hand, ticket 4711',
  })
  @IsString()
  @Length(1, 2000)
  note: string;
}

/**
 * An operator's hand on one saga: each action is an event of the saga's table, offered only by the states that have a
 * row for it (409 elsewhere), and recorded in the history with the operator's subject and note.
 */
@ApiTags('sagas')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
@ProblemResponses(413, { 404: 'No saga for this order', 409: 'Not possible in the saga’s state' })
@ApiUuidParam('orderId', 'The order’s id (the saga’s correlation id)')
@Controller('sagas')
export class SagaActionsController {
  private readonly store: SagaStore;

  constructor(
    private readonly sagas: OrderSagaHandlers,
    private readonly messaging: Messaging,
    dataSource: DataSource,
  ) {
    this.store = new SagaStore(dataSource.manager);
  }

  @Post(':orderId/retry')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Retry a parked saga’s step',
    description:
      'Operators only: resumes a parked saga (NeedsAttention, ShipmentNeedsAttention) at the step it stopped in, sending that step’s command again; the answer moves the saga on asynchronously. Offered only by the states whose row in the saga’s table takes it (409 ' +
      'elsewhere, so a repeated request does not act twice). Recorded with the operator and note in the saga’s ' +
      'history and in GET /operator-actions.',
  })
  @ApiOkResponse({ description: 'The current step was asked again; the saga as it now stands' })
  retry(
    @Param('orderId', new ParseUUIDPipe()) id: string,
    @Body() body: OperatorActionDto,
    @CurrentPrincipal() p: Principal,
  ) {
    return this.act(id, 'retry', body, p);
  }

  @Post(':orderId/compensate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Compensate a parked order',
    description:
      'Operators only: gives up on an order parked before shipping (NeedsAttention): the saga releases the stock, refunds or voids the payment and cancels the order, asynchronously. Offered only by the states whose row in the saga’s table takes it (409 ' +
      'elsewhere, so a repeated request does not act twice). Recorded with the operator and note in the saga’s ' +
      'history and in GET /operator-actions.',
  })
  @ApiOkResponse({ description: 'The saga is undoing what it did' })
  compensate(
    @Param('orderId', new ParseUUIDPipe()) id: string,
    @Body() body: OperatorActionDto,
    @CurrentPrincipal() p: Principal,
  ) {
    return this.act(id, 'compensate', body, p);
  }

  @Post(':orderId/resolve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resolve a parked saga',
    description:
      'Operators only: closes a parked saga once the operator has settled the order by hand; the order keeps its status. Offered only by the states whose row in the saga’s table takes it (409 ' +
      'elsewhere, so a repeated request does not act twice). Recorded with the operator and note in the saga’s ' +
      'history and in GET /operator-actions.',
  })
  @ApiOkResponse({ description: 'The parked saga is closed' })
  resolve(
    @Param('orderId', new ParseUUIDPipe()) id: string,
    @Body() body: OperatorActionDto,
    @CurrentPrincipal() p: Principal,
  ) {
    return this.act(id, 'resolve', body, p);
  }

  private async act(orderId: string, action: OperatorAction, { note }: OperatorActionDto, caller: Principal) {
    const operator = caller.kind === 'operator' ? caller.subject : 'unknown';
    try {
      await this.messaging.transaction((uow) =>
        this.sagas.engine.operatorAction(orderId, action, { operator, note }, uow),
      );
    } catch (err) {
      if (err instanceof SagaActionNotAllowed) {
        if (!(await this.store.find(orderSaga.type, orderId))) throw new NotFoundException('No saga for this order');
        throw new ConflictException(err.message);
      }
      throw err;
    }
    return this.store.find(orderSaga.type, orderId);
  }
}
