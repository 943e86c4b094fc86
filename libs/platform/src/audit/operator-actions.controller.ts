import { Controller, DefaultValuePipe, Get, ParseIntPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ProblemResponses } from '../http/problem-responses.js';
import { DataSource } from 'typeorm';
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
      'newest first. Read-only.',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'How many; a value outside 1–500 is taken as the nearest bound',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 500, default: 100 },
  })
  @ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
  @ApiOkResponse({ description: 'The latest operator actions on this service, newest first (at most 500)' })
  async list(@Query('limit', new DefaultValuePipe(100), ParseIntPipe) limit: number): Promise<OperatorAction[]> {
    return latestOperatorActions(this.dataSource, Math.min(Math.max(limit, 1), 500));
  }
}
