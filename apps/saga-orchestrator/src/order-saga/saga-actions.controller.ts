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
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Messaging } from '@orderflow/messaging';
import { CurrentPrincipal, type Principal, ProblemResponses } from '@orderflow/platform';
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
@ProblemResponses(401, 429, 500)
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
  @ApiOkResponse({ description: 'The current step was asked again; the saga as it now stands' })
  @ProblemResponses({ 409: 'Not possible in the saga’s state' })
  retry(
    @Param('orderId', new ParseUUIDPipe()) id: string,
    @Body() body: OperatorActionDto,
    @CurrentPrincipal() p: Principal,
  ) {
    return this.act(id, 'retry', body, p);
  }

  @Post(':orderId/compensate')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The saga is undoing what it did' })
  @ProblemResponses({ 409: 'Not possible in the saga’s state' })
  compensate(
    @Param('orderId', new ParseUUIDPipe()) id: string,
    @Body() body: OperatorActionDto,
    @CurrentPrincipal() p: Principal,
  ) {
    return this.act(id, 'compensate', body, p);
  }

  @Post(':orderId/resolve')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The parked saga is closed' })
  @ProblemResponses({ 409: 'Not possible in the saga’s state' })
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
