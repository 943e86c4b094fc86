import { ProblemResponses } from '@orderflow/platform';
import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SetOnHandDto } from './dto/set-on-hand.dto.js';
import { SkuParams } from './dto/sku.params.js';
import { StockItemResponse, toResponse } from './dto/stock-item.response.js';
import { StockService } from './stock.service.js';

@ApiTags('stock')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
@Controller('stock')
export class StockController {
  constructor(private readonly stock: StockService) {}

  @Put(':sku')
  @ApiOperation({
    summary: 'Set a SKU’s stock count',
    description:
      'Operators only: records how many units of the SKU are on hand after a count, creating the SKU if it is new. ' +
      'Units reserved for orders stay reserved, so the count may not go below them (409). Idempotent: the same ' +
      'count gives the same stock. Recorded in GET /operator-actions.',
  })
  @ProblemResponses(413)
  @ApiOkResponse({ type: StockItemResponse, description: 'The SKU’s stock after the count (created if new)' })
  @ProblemResponses({ 409: 'More than onHand is reserved for orders' })
  async setOnHand(@Param() { sku }: SkuParams, @Body() body: SetOnHandDto): Promise<StockItemResponse> {
    return toResponse(await this.stock.setOnHand(sku, body.onHand));
  }

  @Get(':sku')
  @ApiOperation({
    summary: 'Read a SKU’s stock',
    description: 'Operators only: units on hand, reserved for orders, and available to new orders. Read-only.',
  })
  @ApiOkResponse({ type: StockItemResponse })
  @ProblemResponses({ 404: 'No stock was ever recorded for this SKU' })
  async get(@Param() { sku }: SkuParams): Promise<StockItemResponse> {
    return toResponse(await this.stock.get(sku));
  }
}
