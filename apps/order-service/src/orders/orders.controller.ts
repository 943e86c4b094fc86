import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  ForbiddenException,
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
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { workContextOf } from '@orderflow/messaging';
import {
  ApiUuidParam,
  CurrentPrincipal,
  decodeCursor,
  MerchantAccess,
  type Principal,
  ProblemResponses,
  ShedsLoadWhenBacklogged,
} from '@orderflow/platform';
import type { Request, Response } from 'express';
import { ListOrdersQuery } from './dto/list-orders.query.js';
import { OrderPageResponse, OrderResponse, toResponse } from './dto/order.response.js';
import { PlaceOrderDto } from './dto/place-order.dto.js';
import { InvalidCallbackUrl } from '../callback-urls/callback-urls.js';
import { OrderNotCancellable, OrderTotalTooLarge } from './order.js';
import {
  IdempotencyKeyInFlight,
  IdempotencyKeyReused,
  OrderNotFound,
  type OrderScope,
  OrdersService,
} from './orders.service.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The merchant API. Each route takes the merchant's API key (or an operator credential, which reads every
 * merchant's orders); a merchant reaches only its own orders and gets 404 for anyone else's.
 */
@ApiTags('orders')
@MerchantAccess()
@ProblemResponses(400, { 401: 'No valid API key or operator credential' }, 429, 500, 503)
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @HttpCode(202)
  @ShedsLoadWhenBacklogged()
  @ApiOperation({
    summary: 'Place an order',
    description:
      'A merchant (with its API key; an operator credential is refused with 403) places an order for one of its ' +
      'customers. The answer is 202: the order is recorded as PENDING and the order saga reserves stock, authorises ' +
      'the payment and books the shipment asynchronously; follow it with GET /orders/{id} or the callback URL. With an ' +
      '`Idempotency-Key`, a retry with the same key and body answers the first order again (`Idempotent-Replayed: ' +
      'true`) and places nothing new. Under overload the order is refused with 503 before anything is recorded.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Retry-safe placement: the same key and body give the same order',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source, minLength: 1, maxLength: 255 },
  })
  @ApiAcceptedResponse({ type: OrderResponse, description: 'Accepted; the order is PENDING until the saga decides' })
  @ProblemResponses(413, {
    403: 'Orders are placed with a merchant API key, not an operator credential',
    409: 'A request with this Idempotency-Key is still being processed; retry later',
    422: 'The Idempotency-Key was used with a different body, or the order total is too large',
  })
  async place(
    @CurrentPrincipal() caller: Principal,
    @Body() body: PlaceOrderDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OrderResponse> {
    if (caller.kind !== 'merchant') throw new ForbiddenException('Orders are placed by merchants, with their API key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key must be 1–255 visible ASCII characters');
    }
    try {
      const { order, replayed } = await this.orders.place(caller.merchantId, body, idempotencyKey, workContextOf(req));
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
      if (err instanceof InvalidCallbackUrl) throw new BadRequestException(err.message);
      throw err;
    }
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Read an order',
    description:
      'The order with its lines, status and status history. A merchant reads its own orders only (404 for anyone ' +
      'else’s); an operator reads any. Read-only.',
  })
  @ApiUuidParam('id', 'The order’s id, as answered when it was placed')
  @ApiOkResponse({ type: OrderResponse })
  @ProblemResponses({ 404: 'No such order for this merchant' })
  async get(
    @CurrentPrincipal() caller: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<OrderResponse> {
    return this.found(() => this.orders.get(scopeOf(caller), id));
  }

  @Get()
  @ApiOperation({
    summary: 'List orders',
    description:
      'Orders newest first, a page at a time, optionally by status or customer: a merchant sees its own, an operator ' +
      'everyone’s. Pass `nextCursor` back as `cursor` for the next page; a cursor this API did not return is a 400. ' +
      'Read-only.',
  })
  @ApiOkResponse({ type: OrderPageResponse })
  async list(@CurrentPrincipal() caller: Principal, @Query() query: ListOrdersQuery): Promise<OrderPageResponse> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new BadRequestException('cursor is not one this API returned');
    const page = await this.orders.list(scopeOf(caller), {
      status: query.status,
      customerId: query.customerId,
      limit: query.limit,
      after,
    });
    return { orders: page.orders.map(toResponse), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel an order',
    description:
      'Asks the order saga to cancel the order: it releases the stock, voids or refunds the payment and becomes ' +
      'CANCELLED asynchronously. A merchant cancels its own orders, an operator any. Asking again while the ' +
      'cancellation is under way changes nothing; an order already shipped or delivered cannot be cancelled (409).',
  })
  @ApiUuidParam('id', 'The order’s id')
  @ApiAcceptedResponse({
    type: OrderResponse,
    description: 'Cancellation requested; the order becomes CANCELLED once undone',
  })
  @ProblemResponses(413, { 404: 'No such order for this merchant', 409: 'The order can no longer be cancelled' })
  async cancel(
    @CurrentPrincipal() caller: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
  ): Promise<OrderResponse> {
    return this.found(async () => {
      try {
        return await this.orders.cancel(scopeOf(caller), id, workContextOf(req));
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

function scopeOf(caller: Principal): OrderScope {
  return caller.kind === 'merchant' ? { merchantId: caller.merchantId } : 'all';
}
