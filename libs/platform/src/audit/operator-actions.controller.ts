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
    summary: 'List recent operator actions',
    description: 'Who did what on this service, newest first; with `batch`, the rows of one batch action only.',
  })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } })
  @ApiQuery({ name: 'batch', required: false, schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ description: 'The latest operator actions on this service, newest first (at most 500)' })
  @ProblemResponses(400, 401, 429, 500)
  async list(
    @Query('limit', new DefaultValuePipe(100), ParseIntPipe) limit: number,
    @Query('batch', new ParseUUIDPipe({ optional: true })) batch?: string,
  ): Promise<OperatorAction[]> {
    return latestOperatorActions(this.dataSource, Math.min(Math.max(limit, 1), 500), batch);
  }
}
