import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { workContextOf } from '@orderflow/messaging';
import type { Request, Response } from 'express';
import { ListOrdersQuery } from './dto/list-orders.query.js';
import { OrderPageResponse, OrderResponse, toResponse } from './dto/order.response.js';
import { PlaceOrderDto } from './dto/place-order.dto.js';
import { OrderNotCancellable, OrderTotalTooLarge } from './order.js';
import { decodeCursor } from './orders.repository.js';
import { IdempotencyKeyInFlight, IdempotencyKeyReused, OrderNotFound, OrdersService } from './orders.service.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@ApiTags('orders')
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @HttpCode(202)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Retry-safe placement: the same key and body give the same order',
  })
  @ApiAcceptedResponse({ type: OrderResponse, description: 'Accepted; the order is PENDING until the saga decides' })
  async place(
    @Body() body: PlaceOrderDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OrderResponse> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key must be 1–255 visible ASCII characters');
    }
    try {
      const { order, replayed } = await this.orders.place(body, idempotencyKey, workContextOf(req));
      res.setHeader('Location', `/orders/${order.orderId}`);
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      return order;
    } catch (err) {
      if (err instanceof IdempotencyKeyInFlight) {
        throw new ConflictException('A request with this Idempotency-Key is still being processed; retry later');
      }
      if (err instanceof IdempotencyKeyReused) {
        throw new UnprocessableEntityException('This Idempotency-Key was used with a different request body');
      }
      if (err instanceof OrderTotalTooLarge) throw new UnprocessableEntityException(err.message);
      throw err;
    }
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderResponse })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<OrderResponse> {
    return this.found(() => this.orders.get(id));
  }

  @Get()
  @ApiOkResponse({ type: OrderPageResponse })
  async list(@Query() query: ListOrdersQuery): Promise<OrderPageResponse> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new BadRequestException('cursor is not one this API returned');
    const page = await this.orders.list({
      status: query.status,
      customerId: query.customerId,
      limit: query.limit,
      after,
    });
    return { orders: page.orders.map(toResponse), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: OrderResponse,
    description: 'Cancellation requested; the order becomes CANCELLED once undone',
  })
  async cancel(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: Request): Promise<OrderResponse> {
    return this.found(async () => {
      try {
        return await this.orders.cancel(id, workContextOf(req));
      } catch (err) {
        if (err instanceof OrderNotCancellable) throw new ConflictException(err.message);
        throw err;
      }
    });
  }

  private async found<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof OrderNotFound) throw new NotFoundException('No order with this id');
      throw err;
    }
  }
}
