import { Controller, DefaultValuePipe, Get, ParseIntPipe, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ProblemResponses } from '../http/problem-responses.js';
import { latestOperatorActions, type OperatorAction } from './operator-actions.js';

/** `GET /operator-actions`: who did what, and when, on this service (operators only, as every route by default). */
@ApiTags('operator actions')
@Controller('operator-actions')
export class OperatorActionsController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @ApiOperation({
    summary: 'List operator actions',
    description:
      'Operators only: who did what on this service, and when — every request that could change something made ' +
      'with an operator credential, refused ones included, with its route, target, status and correlation id; ' +
      'newest first. With `batch`, the rows of one batch action only. Read-only.',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'How many; a value outside 1–500 is taken as the nearest bound',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 500, default: 100 },
  })
  @ApiQuery({
    name: 'batch',
    required: false,
    description: 'Only the rows of this batch action (its `batchId`)',
    schema: { type: 'string', format: 'uuid', minLength: 36, maxLength: 36 },
  })
  @ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
  @ApiOkResponse({ description: 'The latest operator actions on this service, newest first (at most 500)' })
  async list(
    @Query('limit', new DefaultValuePipe(100), ParseIntPipe) limit: number,
    @Query('batch', new ParseUUIDPipe({ optional: true })) batch?: string,
  ): Promise<OperatorAction[]> {
    return latestOperatorActions(this.dataSource, Math.min(Math.max(limit, 1), 500), batch);
  }
}
