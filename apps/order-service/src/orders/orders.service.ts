/**
 * The order use cases behind the REST edge. Placing an order, its idempotency record and the `order.placed` message
 * commit in one transaction, so a placed order always reaches the saga and a retried request never places twice.
 *
 * Idempotency-Key: a transaction-scoped advisory lock on the key makes a concurrent request with the same key fail
 * fast (409) instead of waiting; the lock dies with the transaction, so a crashed request never blocks its key.
 * A finished request's answer is stored with a hash of its body: the same body gets the same answer, another body 422.
 * Keys are scoped per merchant: the same key from two merchants places two orders.
 *
 * Object-level authorisation: a merchant reads, lists and cancels only its own orders; another merchant's order is
 * answered exactly like one that does not exist, so order ids cannot be probed. Operators see every order.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { OrderCancellationRequested, OrderPlaced } from '@orderflow/contracts';
import { Messaging, type WorkContext } from '@orderflow/messaging';
import { SecretBox, SERVICE_CONFIG } from '@orderflow/platform';
import { DataSource } from 'typeorm';
import type { OrderServiceConfig } from '../config.js';
import { CallbackUrls } from '../callback-urls/callback-urls.js';
import type { PlaceOrderDto } from './dto/place-order.dto.js';
import { type OrderResponse, toResponse } from './dto/order.response.js';
import { Order, type OrderStatus } from './order.js';
import { OrdersRepository, type OrderPage } from './orders.repository.js';

export class IdempotencyKeyInFlight extends Error {}
export class IdempotencyKeyReused extends Error {}
export class OrderNotFound extends Error {}

/** Whose orders a caller may see: one merchant's, or (for operators) everyone's. */
export type OrderScope = { merchantId: string } | 'all';

export interface Placed {
  order: OrderResponse;
  replayed: boolean;
}

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

  /** Throws InvalidCallbackUrl when the order's callback URL may not be called (see callback-urls/callback-url.ts). */
  async place(
    merchantId: string,
    request: PlaceOrderDto,
    idempotencyKey: string | undefined,
    context: WorkContext,
  ): Promise<Placed> {
    const requestHash = hashOf(request);
    if (request.callbackUrl !== undefined) await this.callbackUrls.check(request.callbackUrl);
    return this.messaging.transaction(async (uow) => {
      if (idempotencyKey) {
        const [{ locked }] = await uow.manager.query<{ locked: boolean }[]>(
          'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked',
          [`${merchantId}:${idempotencyKey}`],
        );
        if (!locked) throw new IdempotencyKeyInFlight();
        const [earlier] = await uow.manager.query<{ request_hash: string; response_body: OrderResponse }[]>(
          'SELECT request_hash, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2',
          [merchantId, idempotencyKey],
        );
        if (earlier) {
          if (earlier.request_hash !== requestHash) throw new IdempotencyKeyReused();
          return { order: earlier.response_body, replayed: true };
        }
      }
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
      const s = order.snapshot;
      const response = toResponse(order);
      if (idempotencyKey) {
        await uow.manager.query(
          `INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response_status, response_body)
           VALUES ($1, $2, $3, $4, 202, $5)`,
          [merchantId, idempotencyKey, requestHash, s.id, JSON.stringify(response)],
        );
      }
      return { order: response, replayed: false };
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

/** A stable hash of a request body: keys sorted, so field order does not make two equal requests differ. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
