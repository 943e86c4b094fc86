import { BadRequestException, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { FINAL, InvalidSagaListQuery, SagaStore } from '@orderflow/saga';
import { DataSource } from 'typeorm';
import { orderSaga } from './order-saga.js';

const STATES = [...orderSaga.states, FINAL];

export class ListSagasQuery {
  @ApiPropertyOptional({ enum: STATES })
  @IsOptional()
  @IsIn(STATES)
  state?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit = 50;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 300)
  cursor?: string;
}

/** Where each order's saga stands, and everything it received and sent, for operators. */
@ApiTags('sagas')
@Controller('sagas')
export class SagasController {
  private readonly store: SagaStore;

  constructor(dataSource: DataSource) {
    this.store = new SagaStore(dataSource.manager);
  }

  @Get(':orderId')
  @ApiOkResponse({ description: 'State, version, and every event and command with its time' })
  async get(@Param('orderId', new ParseUUIDPipe()) orderId: string) {
    const saga = await this.store.find(orderSaga.type, orderId);
    if (!saga) throw new NotFoundException('No saga for this order');
    return saga;
  }

  @Get()
  async list(@Query() query: ListSagasQuery) {
    try {
      return await this.store.list(orderSaga.type, { state: query.state, limit: query.limit, cursor: query.cursor });
    } catch (err) {
      if (err instanceof InvalidSagaListQuery) throw new BadRequestException(err.message);
      throw err;
    }
  }
}
