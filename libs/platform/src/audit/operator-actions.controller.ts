import { Controller, DefaultValuePipe, Get, ParseIntPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { latestOperatorActions, type OperatorAction } from './operator-actions.js';

/** `GET /operator-actions`: who did what, and when, on this service (operators only, as every route by default). */
@ApiTags('operator actions')
@Controller('operator-actions')
export class OperatorActionsController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @ApiOkResponse({ description: 'The latest operator actions on this service, newest first (at most 500)' })
  async list(@Query('limit', new DefaultValuePipe(100), ParseIntPipe) limit: number): Promise<OperatorAction[]> {
    return latestOperatorActions(this.dataSource, Math.min(Math.max(limit, 1), 500));
  }
}
