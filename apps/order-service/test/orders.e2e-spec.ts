// The order service's REST contract against the real process, its database and the broker: placement (validation,
// size limit, idempotency), reads, listing, cancellation, and status updates arriving as messages. Every call is
// made as one merchant, with its API key, created through the real API before the tests.
import { randomUUID } from 'node:crypto';
import { OrderStatusChanged } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope } from '@orderflow/messaging';
import { SecretBox } from '@orderflow/platform';
import {
  bearer,
  connectBrokerAs,
  createMerchant,
  EventTap,
  ServiceProcess,
  type TestMerchant,
  testEnvironment,
  waitFor,
} from '@orderflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const service = new ServiceProcess('order');
/** The saga's broker user: what the saga sends, only it may (ADR 0016). */
let admin: BrokerConnection;
const tap = new EventTap();
let merchant: TestMerchant;

function orderBody(overrides: Record<string, unknown> = {}) {
  return {
    customerId: `customer-${randomUUID().slice(0, 8)}`,
    currency: 'EUR',
    items: [
      { sku: 'SKU-CHAIR-01', quantity: 2, unitPrice: 4999 },
      { sku: 'SKU-DESK-01', quantity: 1, unitPrice: 25000 },
    ],
    payment: { method: 'card', token: 'tok_ok' },
    shippingAddress: {
      name: 'Ada Lovelace',
      line1: '12 St James’s Square',
      city: 'London',
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    },
    ...overrides,
  };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(merchant.apiKey), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

/** GET as the merchant. */
const get = (path: string) => fetch(`${service.url}${path}`, { headers: bearer(merchant.apiKey) });

async function getOrder(id: string) {
  return (await (await get(`/orders/${id}`)).json()) as Record<string, unknown> & { status: string };
}

async function reportStatus(
  orderId: string,
  status: 'CONFIRMED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED',
  statusReason?: string,
) {
  const event = envelope(
    OrderStatusChanged,
    orderId,
    { orderId, status, ...(statusReason && { statusReason }) },
    {
      service: 'saga',
      correlationId: orderId,
    },
  );
  const channel = await admin.confirmChannel();
  channel.publish('orderflow.events', OrderStatusChanged.type, encode(event), {
    ...amqpProperties(event, 'saga'),
    userId: admin.user,
  });
  await channel.waitForConfirms();
  await channel.close();
}

beforeAll(async () => {
  admin = await connectBrokerAs('saga', 'e2e@orders');
  await tap.open(['order.placed.v1', 'order.cancellation-requested.v1']);
  await service.start().waitReady();
  merchant = await createMerchant(service.url, 'Orders e2e');
});

afterAll(async () => {
  await service.stop();
  await tap.close();
  await admin.close();
});

describe('POST /orders', () => {
  it('accepts an order as PENDING, with its total, a Location, and an order.placed event for the saga', async () => {
    const { res, body } = await post('/orders', orderBody());
    expect(res.status).toBe(202);
    expect(body).toMatchObject({ status: 'PENDING', totalAmount: 34998, currency: 'EUR' });
    const orderId = body.orderId as string;
    expect(res.headers.get('location')).toBe(`/orders/${orderId}`);

    const placed = await tap.next(orderId, 'order.placed.v1');
    expect(placed).toMatchObject({ subject: orderId, data: { orderId, totalAmount: 34998 } });
    // The token goes sealed for the payment service, bound to this order (ADR 0015).
    const paymentToken = placed.data.paymentToken as string;
    expect(paymentToken).not.toContain('tok_ok');
    expect(new SecretBox(process.env.PAYMENT_TOKEN_KEY!).open(paymentToken, orderId)).toBe('tok_ok');
    expect(() => new SecretBox(process.env.PAYMENT_TOKEN_KEY!).open(paymentToken, randomUUID())).toThrow();
  });

  it('refuses an invalid order with a reason per field, and places nothing', async () => {
    const { res, body } = await post(
      '/orders',
      orderBody({
        currency: 'EURO',
        items: [{ sku: 'ok', quantity: 0, unitPrice: 1.5 }],
        payment: { method: 'cash', token: 'tok_ok' },
        shippingAddress: { name: 'A', line1: 'B', city: 'C', postalCode: 'D', country: 'XX' },
        surprise: true,
      }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const fields = (body.errors as { field: string }[]).map((e) => e.field);
    // One error per field: `items.0.quantity` 0 is told its lower bound only, `currency` 'EURO' its pattern only.
    expect(fields).toHaveLength(new Set(fields).size);
    expect(new Set(fields)).toEqual(
      new Set([
        'currency',
        'items.0.quantity',
        'items.0.unitPrice',
        'payment.method',
        'shippingAddress.country',
        'surprise',
      ]),
    );
  });

  it('refuses an empty or oversized list of items', async () => {
    expect((await post('/orders', orderBody({ items: [] }))).res.status).toBe(400);
    const many = Array.from({ length: 101 }, (_, i) => ({ sku: `S-${i}`, quantity: 1, unitPrice: 1 }));
    expect((await post('/orders', orderBody({ items: many }))).res.status).toBe(400);
  });

  it('answers 413 to a body larger than the limit', async () => {
    const { res, body } = await post('/orders', JSON.stringify(orderBody({ customerId: 'x'.repeat(200_000) })));
    expect(res.status).toBe(413);
    expect(body).toMatchObject({ status: 413, title: 'Payload Too Large' });
  });

  it('answers 400 to a body that is not JSON', async () => {
    const { res, body } = await post('/orders', '{"customerId": ');
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ status: 400 });
  });

  describe('with an Idempotency-Key', () => {
    it('gives the same order and the same answer for the same request', async () => {
      const key = randomUUID();
      const request = orderBody();
      const first = await post('/orders', request, { 'idempotency-key': key });
      const again = await post('/orders', request, { 'idempotency-key': key });
      expect(first.res.status).toBe(202);
      expect(again.res.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect(again.res.headers.get('location')).toBe(first.res.headers.get('location'));
      expect(again.res.headers.get('idempotent-replayed')).toBe('true');
      const orderId = first.body.orderId as string;
      await tap.next(orderId, 'order.placed.v1');
      // Give a second publication, were there one, the time the first took.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(tap.about(orderId, 'order.placed.v1')).toHaveLength(1);
    });

    it('refuses the same key with another body (422)', async () => {
      const key = randomUUID();
      expect((await post('/orders', orderBody(), { 'idempotency-key': key })).res.status).toBe(202);
      const reused = await post('/orders', orderBody({ currency: 'USD' }), { 'idempotency-key': key });
      expect(reused.res.status).toBe(422);
      expect(reused.body).toMatchObject({ status: 422, title: 'Unprocessable Entity' });
    });

    it('refuses the same key while the first request is still in flight (409)', async () => {
      const key = randomUUID();
      // Hold the key's lock as an in-flight request would, from another connection: keys are scoped per merchant.
      const holder = new pg.Client({ connectionString: testEnvironment.databaseUrl('order') });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`${merchant.merchantId}:${key}`]);
        const { res } = await post('/orders', orderBody(), { 'idempotency-key': key });
        expect(res.status).toBe(409);
      } finally {
        await holder.end();
      }
      expect((await post('/orders', orderBody(), { 'idempotency-key': key })).res.status).toBe(202);
    });

    it('refuses a malformed key', async () => {
      expect((await post('/orders', orderBody(), { 'idempotency-key': 'has spaces' })).res.status).toBe(400);
    });
  });
});

describe('GET /orders', () => {
  it('answers 404 for an unknown order and 400 for a malformed id', async () => {
    expect((await get(`/orders/${randomUUID()}`)).status).toBe(404);
    expect((await get(`/orders/not-a-uuid`)).status).toBe(400);
  });

  it('lists a customer’s orders newest first, a page at a time', async () => {
    const customerId = `customer-${randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await post('/orders', orderBody({ customerId }))).body.orderId as string);
    const page1 = (await (await get(`/orders?customerId=${customerId}&limit=2`)).json()) as {
      orders: { orderId: string }[];
      nextCursor?: string;
    };
    expect(page1.orders.map((o) => o.orderId)).toEqual([ids[2], ids[1]]);
    expect(page1.nextCursor).toBeDefined();
    const page2 = (await (await get(`/orders?customerId=${customerId}&limit=2&cursor=${page1.nextCursor}`)).json()) as {
      orders: { orderId: string }[];
      nextCursor?: string;
    };
    expect(page2.orders.map((o) => o.orderId)).toEqual([ids[0]]);
    expect(page2.nextCursor).toBeUndefined();
    const pending = (await (await get(`/orders?customerId=${customerId}&status=CONFIRMED`)).json()) as {
      orders: unknown[];
    };
    expect(pending.orders).toEqual([]);
  });

  it('refuses a bad filter or cursor', async () => {
    expect((await get(`/orders?status=LOST`)).status).toBe(400);
    expect((await get(`/orders?limit=1000`)).status).toBe(400);
    expect((await get(`/orders?cursor=bm9wZQ`)).status).toBe(400);
  });
});

describe('status updates from the saga', () => {
  it('move the order forward, keep its history, and ignore duplicates and stale reports', async () => {
    const orderId = (await post('/orders', orderBody())).body.orderId as string;
    await reportStatus(orderId, 'CONFIRMED');
    await waitFor(async () => (await getOrder(orderId)).status === 'CONFIRMED', { what: 'CONFIRMED' });
    await reportStatus(orderId, 'CONFIRMED');
    await reportStatus(orderId, 'SHIPPED');
    await waitFor(async () => (await getOrder(orderId)).status === 'SHIPPED', { what: 'SHIPPED' });
    await reportStatus(orderId, 'CANCELLED', 'TIMED_OUT');
    await reportStatus(orderId, 'DELIVERED');
    await waitFor(async () => (await getOrder(orderId)).status === 'DELIVERED', { what: 'DELIVERED' });
    const order = await getOrder(orderId);
    expect((order.history as { status: string }[]).map((h) => h.status)).toEqual([
      'PENDING',
      'CONFIRMED',
      'SHIPPED',
      'DELIVERED',
    ]);
    expect(order.statusReason).toBeUndefined();
  });

  it('record a cancellation with its reason', async () => {
    const orderId = (await post('/orders', orderBody())).body.orderId as string;
    await reportStatus(orderId, 'CANCELLED', 'OUT_OF_STOCK');
    await waitFor(async () => (await getOrder(orderId)).status === 'CANCELLED', { what: 'CANCELLED' });
    expect(await getOrder(orderId)).toMatchObject({ status: 'CANCELLED', statusReason: 'OUT_OF_STOCK' });
  });
});

describe('POST /orders/{id}/cancel', () => {
  it('accepts while the order is cancellable and asks the saga to cancel it', async () => {
    const orderId = (await post('/orders', orderBody())).body.orderId as string;
    const { res, body } = await post(`/orders/${orderId}/cancel`, {});
    expect(res.status).toBe(202);
    expect(body).toMatchObject({ orderId, status: 'PENDING' });
    expect(typeof body.cancellationRequestedAt).toBe('string');
    expect((await post(`/orders/${orderId}/cancel`, {})).res.status).toBe(202);
    await tap.next(orderId, 'order.cancellation-requested.v1');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(tap.about(orderId, 'order.cancellation-requested.v1')).toHaveLength(1);
  });

  it('answers 409 once the order has shipped, and 404 for an unknown order', async () => {
    const orderId = (await post('/orders', orderBody())).body.orderId as string;
    await reportStatus(orderId, 'CONFIRMED');
    await reportStatus(orderId, 'SHIPPED');
    await waitFor(async () => (await getOrder(orderId)).status === 'SHIPPED', { what: 'SHIPPED' });
    const { res, body } = await post(`/orders/${orderId}/cancel`, {});
    expect(res.status).toBe(409);
    expect(body).toMatchObject({ status: 409, detail: 'an order that is SHIPPED can no longer be cancelled' });
    expect((await post(`/orders/${randomUUID()}/cancel`, {})).res.status).toBe(404);
  });
});
