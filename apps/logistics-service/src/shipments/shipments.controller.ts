import { ApiUuidParam, ProblemResponses } from '@orderflow/platform';
import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { workContextOf } from '@orderflow/messaging';
import type { Request } from 'express';
import { ListShipmentsQuery } from './dto/list-shipments.query.js';
import { ShipmentResponse, toResponse } from './dto/shipment.response.js';
import { ShipmentsService } from './shipments.service.js';

@ApiTags('shipments')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
@Controller('shipments')
export class ShipmentsController {
  constructor(private readonly shipments: ShipmentsService) {}

  @Get()
  @ApiOperation({
    summary: 'List an order’s shipments',
    description: 'Operators only: the shipments booked (or being booked) for the order, with their status. Read-only.',
  })
  @ApiExtraModels(ShipmentResponse)
  @ApiOkResponse({
    description: 'The order’s shipment, if it has one (an order has at most one: a unique constraint)',
    schema: { type: 'array', maxItems: 1, items: { $ref: getSchemaPath(ShipmentResponse) } },
  })
  async list(@Query() query: ListShipmentsQuery): Promise<ShipmentResponse[]> {
    return (await this.shipments.listByOrder(query.orderId)).map(toResponse);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Read a shipment',
    description: 'Operators only: the shipment with its carrier tracking number and status. Read-only.',
  })
  @ApiUuidParam('id', 'The shipment’s id')
  @ApiOkResponse({ type: ShipmentResponse })
  @ProblemResponses({ 404: 'No shipment with this id' })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<ShipmentResponse> {
    return toResponse(await this.shipments.get(id));
  }

  @Post(':id/delivered')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Confirm a delivery',
    description:
      'Operators only, for the customer’s confirmation that the parcel arrived (when the carrier did not report it): ' +
      'records the delivery now and tells the order saga, which completes the order asynchronously. Idempotent: the ' +
      'first report of a delivery stands, and later ones (from here or the carrier) change nothing. A shipment that ' +
      'was never handed to a carrier cannot be delivered (409). Recorded in GET /operator-actions.',
  })
  @ApiUuidParam('id', 'The shipment’s id')
  @ProblemResponses(413, { 404: 'No shipment with this id', 409: 'The shipment cannot be delivered in its state' })
  @ApiOkResponse({
    type: ShipmentResponse,
    description: 'The customer signed for the parcel; the first report of a delivery stands, later ones change nothing',
  })
  async delivered(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: Request): Promise<ShipmentResponse> {
    return toResponse(await this.shipments.confirmByCustomer(id, workContextOf(req)));
  }
}
