import {
  Body,
  Controller,
  Get,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Query,
  DefaultValuePipe,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ApiPatternParam, ProblemResponses } from '@orderflow/platform';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { DeadLetters, UnknownQueue } from './dead-letters.js';

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

/** What a queue is called (`<service>.<purpose>`); an unknown one is a 404. */
const QUEUE_NAME = /^[a-z]+\.[a-z0-9][a-z0-9.-]{0,99}$/;

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
    summary: 'List a queue’s dead letters',
    description:
      'Operators only: the dead letters at the head of the queue’s dead-letter queue — id, type, correlation id, why ' +
      'and when it failed, after how many attempts — looked at without taking them: they go back in order. Read-only.',
  })
  @ApiPatternParam('queue', 'One of this service’s queues, `<service>.<purpose>`', QUEUE_NAME, 110)
  @ProblemResponses({ 404: 'This service has no such queue' })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'How many to look at; a value outside 1–500 is taken as the nearest bound',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 500, default: 50 },
  })
  @ApiOkResponse({ description: 'The dead letters, oldest first' })
  async list(@Param('queue') queue: string, @Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number) {
    return this.known(() => this.deadLetters.list(queue, Math.min(Math.max(limit, 1), 500)));
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
  @ApiPatternParam('queue', 'One of this service’s queues, `<service>.<purpose>`', QUEUE_NAME, 110)
  @ProblemResponses({ 404: 'This service has no such queue' })
  @ProblemResponses(413)
  @ApiCreatedResponse({ description: 'The queue, how many were replayed, and their ids' })
  async replay(@Param('queue') queue: string, @Body() request: ReplayRequest) {
    const replayed = await this.known(() => this.deadLetters.replay(queue, request));
    return { queue, replayed: replayed.length, messageIds: replayed };
  }

  private async known<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof UnknownQueue) throw new NotFoundException(err.message);
      throw err;
    }
  }
}
