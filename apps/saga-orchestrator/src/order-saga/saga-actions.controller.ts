import {
  applyDecorators,
  Body,
  ConflictException,
  Controller,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Messaging } from '@orderflow/messaging';
import {
  ApiUuidParam,
  CurrentPrincipal,
  type Principal,
  ProblemResponses,
  recordBatchItems,
  UUID,
} from '@orderflow/platform';
import { type OperatorAction, SagaActionNotAllowed, SagaStore } from '@orderflow/saga';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  IsUUID,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { OrderSagaHandlers } from './order-saga.handlers.js';
import { orderSaga } from './order-saga.js';
import {
  BATCH_ACTIONS,
  type BatchAction,
  type BatchItemResult,
  type BatchOutcome,
  MAX_BATCH_SIZE,
  runBatch,
  tally,
} from './saga-batch.js';

export class OperatorActionDto {
  @ApiProperty({
    description: 'Why: kept in the saga history with who did it',
    example: 'refunded by hand, ticket 4711',
  })
  @IsString()
  @Length(1, 2000)
  note: string;
}

export class SeenSagaDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  orderId: string;

  @ApiProperty({
    minimum: 1,
    maximum: 2_147_483_647,
    description: 'The version the operator saw (`version` in GET /sagas): a saga that moved on since is skipped',
  })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  version: number;
}

export class SagaBatchActionDto {
  @ApiProperty({ enum: BATCH_ACTIONS, description: 'What to do to each saga' })
  @IsIn(BATCH_ACTIONS)
  action: BatchAction;

  @ApiProperty({ type: [SeenSagaDto], minItems: 1, maxItems: MAX_BATCH_SIZE })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_SIZE)
  @ValidateNested({ each: true })
  @Type(() => SeenSagaDto)
  sagas: SeenSagaDto[];

  @ApiProperty({
    description: 'Why: kept in each saga’s history with who did it',
    minLength: 1,
    maxLength: 2000,
    example: 'carrier confirmed the deliveries by phone, ticket 4711',
  })
  @IsString()
  @Length(1, 2000)
  note: string;
}

class BatchItemResultDto {
  @ApiProperty({ ...UUID }) orderId: string;
  @ApiProperty({ enum: ['succeeded', 'skipped', 'failed'] }) outcome: BatchOutcome;
  @ApiProperty({ enum: [200, 404, 409, 500], description: 'What the same action alone would have answered' })
  status: number;
  @ApiPropertyOptional({ description: 'The state after the action, or as found when skipped', maxLength: 100 })
  state?: string;
  @ApiPropertyOptional({ maxLength: 2000 }) detail?: string;
}

class SagaBatchResultDto {
  @ApiProperty({ ...UUID, description: 'Names the batch in the operator-actions audit (`target.batch`)' })
  batchId: string;
  @ApiProperty({ enum: BATCH_ACTIONS }) action: BatchAction;
  @ApiProperty({ minimum: 0, maximum: MAX_BATCH_SIZE }) succeeded: number;
  @ApiProperty({ minimum: 0, maximum: MAX_BATCH_SIZE }) skipped: number;
  @ApiProperty({ minimum: 0, maximum: MAX_BATCH_SIZE }) failed: number;
  @ApiProperty({ type: [BatchItemResultDto], maxItems: MAX_BATCH_SIZE, description: 'One per saga, in request order' })
  items: BatchItemResult[];
}

/** What each single-saga action documents: the saga it names, and the answers about that saga. */
const OnOneSaga = () =>
  applyDecorators(
    ApiUuidParam('orderId', 'The order’s id (the saga’s correlation id)'),
    ProblemResponses(413, { 404: 'No saga for this order', 409: 'Not possible in the saga’s state' }),
  );

/**
 * An operator's hand on one saga: each action is an event of the saga's table, offered only by the states that have a
 * row for it (409 elsewhere), and recorded in the history with the operator's subject and note.
 */
@ApiTags('sagas')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
@Controller('sagas')
export class SagaActionsController {
  private readonly store: SagaStore;
  private readonly logger = new Logger('SagaBatchActions');

  constructor(
    private readonly sagas: OrderSagaHandlers,
    private readonly messaging: Messaging,
    dataSource: DataSource,
  ) {
    this.store = new SagaStore(dataSource.manager);
  }

  @Post(':orderId/retry')
  @HttpCode(200)
  @OnOneSaga()
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
  @OnOneSaga()
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
  @OnOneSaga()
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

  @Post('actions')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Retry or resolve many sagas',
    description:
      'Operators only: applies one operator action to each listed saga in turn, each in its own transaction, and reports each ' +
      'one’s outcome: succeeded, skipped (the saga is no longer at the version the operator saw, or its state does ' +
      'not offer the action) or failed (no such saga, or an unexpected error). One failure neither stops nor undoes ' +
      'the others. Each saga’s action is recorded in the operator-actions audit with the batch id.',
  })
  @ApiOkResponse({ type: SagaBatchResultDto, description: 'The outcome of each saga, in request order' })
  @ProblemResponses(413)
  async batch(
    @Body() body: SagaBatchActionDto,
    @CurrentPrincipal() caller: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SagaBatchResultDto> {
    const operator = caller.kind === 'operator' ? caller.subject : 'unknown';
    const batchId = randomUUID();
    const items = await runBatch(body.sagas, {
      act: async ({ orderId, version }) => {
        await this.messaging.transaction((uow) =>
          this.sagas.engine.operatorAction(orderId, body.action, { operator, note: body.note }, uow, version),
        );
        return (await this.store.find(orderSaga.type, orderId))?.state;
      },
      exists: async (orderId) => (await this.store.find(orderSaga.type, orderId)) !== undefined,
      unexpected: (orderId, err) =>
        this.logger.error({ message: 'batch action failed', batchId, orderId, reason: (err as Error).message }),
    });
    recordBatchItems(
      res,
      batchId,
      items.map((item) => ({
        target: { orderId: item.orderId, action: body.action, outcome: item.outcome, note: body.note },
        status: item.status,
      })),
    );
    return { batchId, action: body.action, ...tally(items), items };
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
