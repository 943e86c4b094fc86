import { ProblemResponses } from '@orderflow/platform';
import {
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { workContextOf } from '@orderflow/messaging';
import type { Request } from 'express';
import { ListShipmentsQuery } from './dto/list-shipments.query.js';
import { ShipmentResponse, toResponse } from './dto/shipment.response.js';
import { ShipmentNotDeliverable } from './shipment.js';
import { ShipmentNotFound, ShipmentsService } from './shipments.service.js';

@ApiTags('shipments')
@ProblemResponses(401, 429, 500)
@Controller('shipments')
export class ShipmentsController {
  constructor(private readonly shipments: ShipmentsService) {}

  @Get()
  @ApiOkResponse({ type: [ShipmentResponse] })
  async list(@Query() query: ListShipmentsQuery): Promise<ShipmentResponse[]> {
    return (await this.shipments.listByOrder(query.orderId)).map(toResponse);
  }

  @Get(':id')
  @ApiOkResponse({ type: ShipmentResponse })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<ShipmentResponse> {
    return toResponse(await found(() => this.shipments.get(id)));
  }

  @Post(':id/delivered')
  @HttpCode(200)
  @ApiOkResponse({
    type: ShipmentResponse,
    description: 'The customer signed for the parcel; the first report of a delivery stands, later ones change nothing',
  })
  async delivered(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: Request): Promise<ShipmentResponse> {
    return toResponse(await found(() => this.shipments.confirmByCustomer(id, workContextOf(req))));
  }
}

export async function found<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ShipmentNotFound) throw new NotFoundException('No shipment with this id');
    if (err instanceof ShipmentNotDeliverable) throw new ConflictException(err.message);
    throw err;
  }
}
