/**
 * The order use cases behind the REST edge. Placing an order and its `order.placed` message commit in one
 * transaction, so a placed order always reaches the saga. A placement retried with its Idempotency-Key never places
 * twice: the key's record commits in that same transaction (the controller opts in; libs/messaging's
 * idempotency-keys.ts says how).
 *
 * Object-level authorisation: a merchant reads, lists and cancels only its own orders; another merchant's order is
 * answered exactly like one that does not exist, so order ids cannot be probed. Operators see every order.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { OrderCancellationRequested, OrderPlaced } from '@orderflow/contracts';
import { Messaging, type WorkContext } from '@orderflow/messaging';
import { SecretBox, SERVICE_CONFIG } from '@orderflow/platform';
import { NotFound } from '@orderflow/platform/domain-errors';
import { DataSource } from 'typeorm';
import type { OrderServiceConfig } from '../config.js';
import { CallbackUrls } from '../callback-urls/callback-urls.js';
import type { PlaceOrderDto } from './dto/place-order.dto.js';
import { type OrderResponse, toResponse } from './dto/order.response.js';
import { Order, type OrderStatus } from './order.js';
import { OrdersRepository, type OrderPage } from './orders.repository.js';

export class OrderNotFound extends NotFound {
  constructor() {
    super('No order with this id');
  }
}

/** Whose orders a caller may see: one merchant's, or (for operators) everyone's. */
export type OrderScope = { merchantId: string } | 'all';

@Injectable()
export class OrdersService {
  /** Seals payment tokens for the payment service alone (PAYMENT_TOKEN_KEY, ADR 0015). */
  private readonly paymentTokens: SecretBox;

  constructor(
    private readonly messaging: Messaging,
    private readonly dataSource: DataSource,
    private readonly orders: OrdersRepository,
    private readonly callbackUrls: CallbackUrls,
    @Inject(SERVICE_CONFIG) config: OrderServiceConfig,
  ) {
    this.paymentTokens = new SecretBox(config.PAYMENT_TOKEN_KEY);
  }

  /**
   * Places a merchant's order: PENDING until the saga it starts decides. Throws InvalidCallbackUrl when the order's
   * callback URL may not be called (see callback-urls/callback-url.ts), OrderTotalTooLarge when its total cannot be
   * represented.
   */
  async place(merchantId: string, request: PlaceOrderDto, context: WorkContext): Promise<OrderResponse> {
    if (request.callbackUrl !== undefined) await this.callbackUrls.check(request.callbackUrl);
    return this.messaging.transaction(async (uow) => {
      const order = Order.place({
        id: randomUUID(),
        merchantId,
        customerId: request.customerId,
        currency: request.currency,
        items: request.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
        shippingAddress: { ...request.shippingAddress },
        callbackUrl: request.callbackUrl,
        now: new Date(),
      });
      await this.orders.insert(uow.manager, order);
      uow.publish(orderPlaced(order, this.paymentTokens.seal(request.payment.token, order.snapshot.id)));
      return toResponse(order);
    }, context);
  }

  async get(scope: OrderScope, id: string): Promise<OrderResponse> {
    return toResponse(visible(scope, await this.orders.find(this.dataSource.manager, id)));
  }

  async list(
    scope: OrderScope,
    filter: {
      status?: OrderStatus;
      customerId?: string;
      limit: number;
      after?: { createdAt: string; id: string };
    },
  ): Promise<OrderPage> {
    return this.orders.list(this.dataSource.manager, {
      ...filter,
      ...(scope !== 'all' && { merchantId: scope.merchantId }),
    });
  }

  /** Asks the saga to cancel; the order becomes CANCELLED when the saga has undone what was done. */
  async cancel(scope: OrderScope, id: string, context: WorkContext): Promise<OrderResponse> {
    return this.messaging.transaction(async (uow) => {
      const order = visible(scope, await this.orders.find(uow.manager, id));
      if (order.requestCancellation(new Date())) {
        await this.orders.update(uow.manager, order);
        uow.publish(OrderCancellationRequested.of({ orderId: id }));
      }
      return toResponse(order);
    }, context);
  }
}

function visible(scope: OrderScope, order: Order | undefined): Order {
  if (!order || (scope !== 'all' && order.snapshot.merchantId !== scope.merchantId)) throw new OrderNotFound();
  return order;
}

/**
 * The message that starts an order's saga. Its schema is checked again here, so a request the REST validation let
 * through and the schema refuses would fail the placement: `place-order.dto.spec.ts` holds the two together.
 * `sealedPaymentToken` is the merchant's token sealed for the payment service: the order service keeps no copy, and
 * every copy of the message (outbox, queues, dead letters, the saga's) carries it sealed.
 */
export function orderPlaced(order: Order, sealedPaymentToken: string) {
  const s = order.snapshot;
  return OrderPlaced.of({
    orderId: s.id,
    customerId: s.customerId,
    items: s.items,
    totalAmount: s.totalAmount,
    currency: s.currency,
    paymentToken: sealedPaymentToken,
    shippingAddress: s.shippingAddress,
  });
}
