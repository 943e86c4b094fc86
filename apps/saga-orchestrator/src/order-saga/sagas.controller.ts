import { ApiUuidParam, PageLimit, ProblemResponses, TimeRangeQuery } from '@orderflow/platform';
import { BadRequestException, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { FINAL, SagaStore } from '@orderflow/saga';
import { DataSource } from 'typeorm';
import { SagaCountsRepository } from '../console/saga-counts.repository.js';
import { orderSaga } from './order-saga.js';

const STATES = [...orderSaga.states, FINAL];
/** Where the order saga's data says why: a parked saga's reason, and a cancelled order's. */
const REASON_PATHS = [['attention', 'reason'], ['reason']];

export class ListSagasQuery extends TimeRangeQuery({
  since: 'Only sagas created at or after this instant (ISO 8601)',
  until: 'Only sagas created before this instant (ISO 8601)',
}) {
  @ApiPropertyOptional({ enum: STATES })
  @IsOptional()
  @IsIn(STATES)
  state?: string;

  @ApiPropertyOptional({
    minLength: 2,
    maxLength: 200,
    description: 'Only sagas whose parked reason or cancellation reason contains this text (case-insensitive)',
  })
  @IsOptional()
  @IsString()
  @Length(2, 200)
  reason?: string;

  @ApiPropertyOptional({
    minLength: 4,
    maxLength: 36,
    pattern: '^[0-9a-fA-F-]{4,36}$',
    description: 'Only the saga of this order, or of the orders whose id starts with this (at least 4 characters)',
  })
  @IsOptional()
  @Matches(/^[0-9a-fA-F-]{4,36}$/, { message: 'orderId must be an order id or its first 4 to 36 characters' })
  orderId?: string;

  @PageLimit({ max: 500, default: 50 })
  limit = 50;

  @ApiPropertyOptional({ minLength: 1, maxLength: 300, description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @Length(1, 300)
  cursor?: string;
}

/** Where each order's saga stands, and everything it received and sent, for operators. */
@ApiTags('sagas')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
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
  @ApiOperation({
    summary: 'Count order sagas by state',
    description: 'Operators only: how many order sagas stand in each state, for the console’s overview. Read-only.',
  })
  @ApiOkResponse({ description: 'How many order sagas are in each state, Final included; 0 for a state with none' })
  async countsByState(): Promise<{ counts: Record<string, number> }> {
    const found = await this.counts.countsByState(orderSaga.type);
    return { counts: { ...Object.fromEntries(STATES.map((state) => [state, 0])), ...found } };
  }

  @Get(':orderId')
  @ApiOperation({
    summary: 'Read an order’s saga',
    description:
      'Operators only: where the order’s saga stands, its deadlines, and its history — every event it received, ' +
      'command it sent and operator action taken on it, with times. Read-only.',
  })
  @ApiUuidParam('orderId', 'The order’s id (the saga’s correlation id)')
  @ApiOkResponse({ description: 'State, version, and every event and command with its time' })
  @ProblemResponses({ 404: 'No saga for this order' })
  async get(@Param('orderId', new ParseUUIDPipe()) orderId: string) {
    const saga = await this.store.find(orderSaga.type, orderId);
    if (!saga) throw new NotFoundException('No saga for this order');
    return saga;
  }

  @Get()
  @ApiOperation({
    summary: 'List order sagas',
    description:
      'Operators only: order sagas a page at a time, oldest first, by keyset; filtered by state (say, the parked ones ' +
      'waiting for an operator), creation time (`since` ≤ created < `until`), reason and order id. Pass `nextCursor` ' +
      'back as `cursor`, with the same filters, for the next page; a cursor this API did not return is a 400. ' +
      'Read-only.',
  })
  @ApiOkResponse({ description: 'One page of sagas, and the cursor of the next page when there is one' })
  async list(@Query() query: ListSagasQuery) {
    if (query.since && query.until && Date.parse(query.since) >= Date.parse(query.until)) {
      throw new BadRequestException('since must be before until');
    }
    return this.store.list(orderSaga.type, {
      state: query.state,
      limit: query.limit,
      cursor: query.cursor,
      since: query.since,
      until: query.until,
      correlationIdPrefix: query.orderId?.toLowerCase(),
      dataText: query.reason === undefined ? undefined : { paths: REASON_PATHS, contains: query.reason },
    });
  }
}
