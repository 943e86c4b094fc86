/**
 * The operators' HTTP edge to this service's dead-letter queues: summarise them, list one, replay messages, replay a
 * batch with each message's outcome. The work is dead-letters.ts's; this translates requests and answers.
 *
 * Guarantee: only operators reach it (no access policy is the operator policy, libs/platform access), and every
 * replay is in the operator-actions audit, a batch's messages each under the batch's id with the operator's note.
 * Every input is bounded (the queue name's pattern, page sizes, id lists, filter lengths), so no request makes the
 * service read or republish without limit, and a queue that is not one of this service's is a 404. Repeating a
 * replay is harmless: a message leaves its dead-letter queue only once its republish is confirmed, ids no longer
 * there are skipped, and the consumer's inbox keeps a message handled before from taking effect twice.
 */
import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import {
  ApiPatternParam,
  PageLimit,
  ProblemResponses,
  recordBatchItems,
  TimeRangeQuery,
  UUID,
} from '@orderflow/platform';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  Min,
} from 'class-validator';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { DeadLetters, type ReplayOutcome } from './dead-letters.js';

export const MAX_REPLAY_BATCH = 100;

export class ReplayRequest {
  @ApiPropertyOptional({
    type: [String],
    description: 'Replay exactly these messages; without it, up to `limit` from the head of the dead-letter queue',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1_000)
  @IsUUID('all', { each: true })
  messageIds?: string[];

  @ApiPropertyOptional({
    type: 'integer',
    description: 'How many to replay from the head when no ids are given',
    default: 100,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;
}

export class ListDeadLettersQuery extends TimeRangeQuery({
  since: 'Only those that failed at or after this',
  until: 'Only those that failed before this',
}) {
  @PageLimit({ max: 500, default: 50 })
  limit = 50;

  @ApiPropertyOptional({
    minLength: 2,
    maxLength: 200,
    description: 'Only dead letters whose reason or error contains this text (case-insensitive)',
  })
  @IsOptional()
  @IsString()
  @Length(2, 200)
  reason?: string;
}

export class BatchReplayRequest {
  @ApiProperty({
    type: [String],
    format: 'uuid',
    minItems: 1,
    maxItems: MAX_REPLAY_BATCH,
    uniqueItems: true,
    description: 'The dead letters to put back on their queue, each on its own',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_REPLAY_BATCH)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  messageIds: string[];

  @ApiProperty({ minLength: 1, maxLength: 2000, description: 'Why: kept in the operator-actions audit' })
  @IsString()
  @Length(1, 2000)
  note: string;
}

class ReplayOutcomeDto {
  @ApiProperty({ ...UUID }) messageId: string;
  @ApiProperty({ enum: ['succeeded', 'skipped', 'failed'] }) outcome: ReplayOutcome['outcome'];
  @ApiPropertyOptional({ maxLength: 2000 }) detail?: string;
}

class BatchReplayResult {
  @ApiProperty({ ...UUID, description: 'Names the batch in the operator-actions audit (`target.batch`)' })
  batchId: string;
  @ApiProperty({ maxLength: 200 }) queue: string;
  @ApiProperty({ minimum: 0, maximum: MAX_REPLAY_BATCH }) succeeded: number;
  @ApiProperty({ minimum: 0, maximum: MAX_REPLAY_BATCH }) skipped: number;
  @ApiProperty({ minimum: 0, maximum: MAX_REPLAY_BATCH }) failed: number;
  @ApiProperty({ type: [ReplayOutcomeDto], maxItems: MAX_REPLAY_BATCH, description: 'One per message, in order' })
  items: ReplayOutcome[];
}

const STATUS_OF = { succeeded: 200, skipped: 409, failed: 500 } as const;

/** What a queue is called (`<service>.<purpose>`); an unknown one is a 404. */
const QUEUE_NAME = /^[a-z]+\.[a-z0-9][a-z0-9.-]{0,99}$/;
const QUEUE_PARAM = ['queue', 'One of this service’s queues, `<service>.<purpose>`', QUEUE_NAME, 110] as const;

/** Operator endpoints for this service's dead-letter queues: operator credentials only (no policy is the operator policy). */
@ApiTags('dead letters')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500)
@Controller('dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetters) {}

  @Get()
  @ApiOperation({
    summary: 'Summarise the dead-letter queues',
    description:
      'Operators only: each of this service’s queues with its dead-letter queue and how many messages wait there. ' +
      'Read-only.',
  })
  @ApiOkResponse({ description: 'One entry per queue: `queue`, `deadLetterQueue`, `messages`' })
  summary() {
    return this.deadLetters.summary();
  }

  @Get(':queue')
  @ApiOperation({
    summary: 'List the dead letters of one queue',
    description:
      'Operators only: id, type, correlation id, why and when each failed, after how many attempts. Looks without ' +
      'taking: the messages stay in the dead-letter queue, in order. With `reason`, `since` or `until`, the first ' +
      '`limit` that match among the first 10,000. Read-only.',
  })
  @ApiPatternParam(...QUEUE_PARAM)
  @ApiOkResponse({ description: 'The dead letters, head of the queue first' })
  @ProblemResponses({ 404: 'This service has no such queue' })
  async list(@Param('queue') queue: string, @Query() query: ListDeadLettersQuery) {
    const { limit, ...filter } = query;
    return this.deadLetters.list(queue, limit, filter);
  }

  @Post(':queue/replay')
  @ApiOperation({
    summary: 'Replay dead letters',
    description:
      'Operators only: puts the named dead letters (or up to `limit` from the head) back on their queue as first ' +
      'attempts. Each leaves the dead-letter queue only once the broker confirmed its republish, so nothing is lost; ' +
      'the consumer’s inbox keeps a message handled before from taking effect twice. Ids no longer there are skipped, ' +
      'so repeating the request is harmless. Recorded in GET /operator-actions.',
  })
  @ApiPatternParam(...QUEUE_PARAM)
  @ProblemResponses({ 404: 'This service has no such queue' })
  @ProblemResponses(413)
  @ApiCreatedResponse({ description: 'The queue, how many were replayed, and their ids' })
  async replay(@Param('queue') queue: string, @Body() request: ReplayRequest) {
    const replayed = await this.deadLetters.replay(queue, request);
    return { queue, replayed: replayed.length, messageIds: replayed };
  }

  @Post(':queue/replay-batch')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Replay many dead letters, each reported',
    description:
      'Operators only: puts each listed message back on its queue on its own, with an operator note, and reports each one: ' +
      'succeeded, skipped (no longer in the dead-letter queue) or failed (it stays there). One failure does not ' +
      'stop the others. Each message is recorded in the operator-actions audit with the batch id.',
  })
  @ApiPatternParam(...QUEUE_PARAM)
  @ApiOkResponse({ type: BatchReplayResult, description: 'The outcome of each message, in request order' })
  @ProblemResponses(413, { 404: 'This service has no such queue' })
  async replayBatch(
    @Param('queue') queue: string,
    @Body() request: BatchReplayRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BatchReplayResult> {
    const items = await this.deadLetters.replayEach(queue, request.messageIds);
    const batchId = randomUUID();
    recordBatchItems(
      res,
      batchId,
      items.map((item) => ({
        target: { queue, messageId: item.messageId, outcome: item.outcome, note: request.note },
        status: STATUS_OF[item.outcome],
      })),
    );
    const count = (outcome: ReplayOutcome['outcome']) => items.filter((item) => item.outcome === outcome).length;
    return {
      batchId,
      queue,
      succeeded: count('succeeded'),
      skipped: count('skipped'),
      failed: count('failed'),
      items,
    };
  }
}
