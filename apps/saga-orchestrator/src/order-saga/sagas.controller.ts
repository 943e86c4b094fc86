import { ProblemResponses } from '@orderflow/platform';
import { BadRequestException, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { FINAL, InvalidSagaListQuery, SagaStore } from '@orderflow/saga';
import { DataSource } from 'typeorm';
import { SagaCountsRepository } from '../console/saga-counts.repository.js';
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
@ProblemResponses(401, 429, 500)
@Controller('sagas')
export class SagasController {
  private readonly store: SagaStore;
  private readonly counts: SagaCountsRepository;

  constructor(dataSource: DataSource) {
    this.store = new SagaStore(dataSource.manager);
    this.counts = new SagaCountsRepository(dataSource.manager);
  }

  // Before `:orderId`, which would take "counts" for an order id.
  @Get('counts')
  @ApiOkResponse({ description: 'How many order sagas are in each state, Final included; 0 for a state with none' })
  async countsByState(): Promise<{ counts: Record<string, number> }> {
    const found = await this.counts.countsByState(orderSaga.type);
    return { counts: { ...Object.fromEntries(STATES.map((state) => [state, 0])), ...found } };
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
