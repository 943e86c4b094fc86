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
import { ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { DeadLetters, UnknownQueue } from './dead-letters.js';

export class ReplayRequest {
  /** Replay exactly these messages; without it, up to `limit` from the head of the dead-letter queue. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1_000)
  @IsUUID('all', { each: true })
  messageIds?: string[];

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;
}

/** Operator endpoints for this service's dead-letter queues: operator credentials only (no policy is the operator policy). */
@ApiTags('dead letters')
@Controller('dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetters) {}

  @Get()
  summary() {
    return this.deadLetters.summary();
  }

  @Get(':queue')
  async list(@Param('queue') queue: string, @Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number) {
    return this.known(() => this.deadLetters.list(queue, Math.min(Math.max(limit, 1), 500)));
  }

  @Post(':queue/replay')
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
