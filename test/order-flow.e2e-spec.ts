// The whole suite as a merchant uses it: five services and the two third-party simulators as real processes, orders
// placed over REST, driven by messages alone to CONFIRMED and DELIVERED or to CANCELLED with their reason — and,
// whatever happened, money kept only for orders that were not cancelled (exactly their total, once) and stock taken
// only for those. The merchant places, reads and cancels its orders with its own API key; the checks on the other
// services (stock, payments, shipments, sagas) are an operator's, with the operator token.
import { randomUUID } from 'node:crypto';
import {
  asOperator,
  bearer,
  createMerchant,
  RabbitMqManagement,
  ServiceProcess,
  SimulatorProcess,
  type TestMerchant,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const base = Number(process.env.ORDERFLOW_HTTP_PORT_BASE ?? 3100);
const gateway = new SimulatorProcess('payment-gateway', base + 10, { SLOW_DELAY_MS: '8000', ASYNC_DELAY_MS: '300' });
const carrier = new SimulatorProcess('carrier', base + 11, { DELIVERY_DELAY_MS: '0' });
// The tests poll (many orders at once, several times a second) far past the default per-credential rate limit.
const retries = {
  RETRY_MAX_ATTEMPTS: '3',
  RETRY_BASE_DELAY_MS: '100',
  RETRY_MAX_DELAY_MS: '400',
  RATE_LIMIT_REQUESTS: '1000000',
};
const services = {
  order: new ServiceProcess('order', retries),
  payment: new ServiceProcess('payment', {
    ...retries,
    PAYMENT_GATEWAY_URL: gateway.url,
    PAYMENT_GATEWAY_TIMEOUT_MS: '800',
  }),
  warehouse: new ServiceProcess('warehouse', retries),
  logistics: new ServiceProcess('logistics', { ...retries, CARRIER_URL: carrier.url, CARRIER_TIMEOUT_MS: '800' }),
  saga: new ServiceProcess('saga', retries),
};
const all = Object.values(services);
let merchant: TestMerchant;

type Order = { orderId: string; status: string; statusReason?: string; totalAmount: number };
type Payment = { paymentId: string; status: string; amount: number };
type Stock = { sku: string; onHand: number; reserved: number; available: number };

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  return { status: res.status, body: (await res.json()) as T };
}

/** As the merchant, with its API key. */
const asMerchant = () => bearer(merchant.apiKey);

async function stock(sku: string, onHand?: number): Promise<Stock> {
  const url = `${services.warehouse.url}/stock/${sku}`;
  if (onHand !== undefined) {
    return (await json<Stock>(url, { method: 'PUT', headers: asOperator(), body: JSON.stringify({ onHand }) })).body;
  }
  return (await json<Stock>(url, { headers: asOperator() })).body;
}

async function place(
  sku: string,
  options: { token?: string; quantity?: number; country?: string } = {},
): Promise<Order> {
  const { status, body } = await json<Order>(`${services.order.url}/orders`, {
    method: 'POST',
    headers: asMerchant(),
    body: JSON.stringify({
      customerId: 'customer-flow',
      currency: 'EUR',
      items: [{ sku, quantity: options.quantity ?? 1, unitPrice: 2500 }],
      payment: { method: 'card', token: options.token ?? 'tok_ok' },
      shippingAddress: {
        name: 'Grace Hopper',
        line1: '1 Harbour St',
        city: 'Arlington',
        postalCode: '22201',
        country: options.country ?? 'US',
      },
    }),
  });
  expect(status).toBe(202);
  return body;
}

async function settled(orderId: string, timeoutMs = 30_000): Promise<Order> {
  return waitFor(
    async () => {
      const { body } = await json<Order>(`${services.order.url}/orders/${orderId}`, { headers: asMerchant() });
      // CONFIRMED is not an end: a shipment the carrier refuses, or a cancellation, still undoes it.
      return ['SHIPPED', 'DELIVERED', 'CANCELLED'].includes(body.status) && body;
    },
    { timeoutMs, intervalMs: 200, what: `order ${orderId} to settle` },
  );
}

async function status(orderId: string, wanted: string, timeoutMs = 30_000): Promise<Order> {
  return waitFor(
    async () => {
      const { body } = await json<Order>(`${services.order.url}/orders/${orderId}`, { headers: asMerchant() });
      return body.status === wanted && body;
    },
    { timeoutMs, intervalMs: 200, what: `order ${orderId} to be ${wanted}` },
  );
}

async function payments(orderId: string): Promise<Payment[]> {
  return (await json<Payment[]>(`${services.payment.url}/payments?orderId=${orderId}`, { headers: asOperator() })).body;
}

/** Money the merchant keeps for an order: what was captured and not refunded. */
async function moneyKept(orderId: string): Promise<number> {
  return (await payments(orderId)).filter((p) => p.status === 'CAPTURED').reduce((sum, p) => sum + p.amount, 0);
}

const freshSku = () => `FLOW-${randomUUID().slice(0, 8)}`;

type Saga = { state: string; history: { kind: string; messageType: string }[] };
const sagaOf = async (orderId: string) =>
  (await json<Saga>(`${services.saga.url}/sagas/${orderId}`, { headers: asOperator() })).body;
/** The commands the saga sent for an order, in order. */
const commandsOf = async (orderId: string) =>
  (await sagaOf(orderId)).history.filter((h) => h.kind === 'command').map((h) => h.messageType);

beforeAll(async () => {
  // Leftovers of other test files (their services were not all running) would only add noise here.
  const management = new RabbitMqManagement();
  for (const queue of [
    'saga.events',
    'payment.commands',
    'warehouse.commands',
    'logistics.commands',
    'order.status-updates',
  ]) {
    await management.delete(`/queues/orderflow/${queue}/contents`);
  }
  await gateway.start();
  await carrier.start();
  all.forEach((s) => s.start());
  await Promise.all(all.map((s) => s.waitReady()));
  merchant = await createMerchant(services.order.url, 'Order flow');
}, 120_000);

afterAll(async () => {
  await Promise.all(all.map((s) => s.stop().catch(() => s.kill())));
  await gateway.stop();
  await carrier.stop();
});

describe('an order that goes well', () => {
  it('is CONFIRMED with its total captured once, SHIPPED with its stock picked, and DELIVERED when the customer signs', async () => {
    const sku = freshSku();
    await stock(sku, 10);
    const order = await place(sku, { quantity: 3 });
    expect(order.totalAmount).toBe(7500);
    await status(order.orderId, 'SHIPPED');
    expect(await moneyKept(order.orderId)).toBe(7500);
    expect(await stock(sku)).toMatchObject({ onHand: 7, reserved: 0, available: 7 });

    const [shipment] = (
      await json<{ shipmentId: string }[]>(`${services.logistics.url}/shipments?orderId=${order.orderId}`, {
        headers: asOperator(),
      })
    ).body;
    expect(shipment).toBeDefined();
    const signed = await fetch(`${services.logistics.url}/shipments/${shipment.shipmentId}/delivered`, {
      method: 'POST',
      headers: asOperator(),
    });
    expect(signed.ok).toBe(true);
    const delivered = await status(order.orderId, 'DELIVERED');
    expect((delivered as Order & { history: { status: string }[] }).history.map((h) => h.status)).toEqual([
      'PENDING',
      'CONFIRMED',
      'SHIPPED',
      'DELIVERED',
    ]);
    const saga = (
      await json<{ state: string }>(`${services.saga.url}/sagas/${order.orderId}`, { headers: asOperator() })
    ).body;
    expect(saga.state).toBe('Final');
  });

  it('survives a flaky gateway (one authorisation) and an asynchronous one', async () => {
    const sku = freshSku();
    await stock(sku, 10);
    const flaky = await place(sku, { token: 'tok_flaky' });
    const later = await place(sku, { token: 'tok_async' });
    for (const order of [flaky, later]) {
      await status(order.orderId, 'SHIPPED');
      expect(await moneyKept(order.orderId)).toBe(2500);
      expect(await payments(order.orderId)).toHaveLength(1);
    }
  });
});

describe('an order that fails is CANCELLED with its reason, and nothing is kept', () => {
  it.each([
    ['a declined card', { token: 'tok_declined' }, 'PAYMENT_DECLINED'],
    ['a gateway that answers too late', { token: 'tok_slow' }, 'TIMED_OUT'],
    ['a country the carrier does not serve', { country: 'ZZ' }, 'SHIPPING_UNAVAILABLE'],
    ['too little stock', { quantity: 50 }, 'OUT_OF_STOCK'],
  ] as const)('%s', async (_what, options, reason) => {
    const sku = freshSku();
    await stock(sku, 10);
    const order = await place(sku, options);
    const final = await settled(order.orderId, 45_000);
    expect(final).toMatchObject({ status: 'CANCELLED', statusReason: reason });
    expect(await moneyKept(order.orderId)).toBe(0);
    expect(await stock(sku)).toMatchObject({ onHand: 10, reserved: 0 });
  });

  it('when the merchant cancels it', async () => {
    const sku = freshSku();
    await stock(sku, 10);
    const order = await place(sku, { token: 'tok_async' });
    const cancel = await fetch(`${services.order.url}/orders/${order.orderId}/cancel`, {
      method: 'POST',
      headers: asMerchant(),
    });
    expect(cancel.status).toBe(202);
    expect(await settled(order.orderId)).toMatchObject({ status: 'CANCELLED', statusReason: 'CUSTOMER_CANCELLED' });
    // A late approval must not leave money behind either.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await moneyKept(order.orderId)).toBe(0);
    expect(await stock(sku)).toMatchObject({ onHand: 10, reserved: 0 });
  });
});

// Payment and stock are asked at once. To make "while the other has said yes" certain rather than likely, the service
// that is to say no is stopped until the other has said yes; its command waits on its durable queue meanwhile.
describe('the two steps that run at once: a no from one undoes the other, once', () => {
  /** Runs `meanwhile` with `service` stopped, and starts it again whatever happens. */
  async function whileStopped<T>(service: ServiceProcess, meanwhile: () => Promise<T>): Promise<T> {
    await service.stop();
    try {
      return await meanwhile();
    } finally {
      await service.start().waitReady();
    }
  }

  it('a card declined while the stock is reserved: the stock is given back, no void, CANCELLED PAYMENT_DECLINED', async () => {
    const sku = freshSku();
    await stock(sku, 10);
    const order = await whileStopped(services.payment, async () => {
      const placed = await place(sku, { token: 'tok_declined' });
      await waitFor(async () => (await stock(sku)).reserved === 1, { what: 'the stock to be reserved' });
      expect((await sagaOf(placed.orderId)).state).toBe('AuthorizingAndReserving');
      return placed;
    });
    expect(await settled(order.orderId)).toMatchObject({ status: 'CANCELLED', statusReason: 'PAYMENT_DECLINED' });
    expect(await stock(sku)).toMatchObject({ onHand: 10, reserved: 0 });
    expect((await payments(order.orderId)).map((p) => p.status)).toEqual(['DECLINED']);
    expect(await commandsOf(order.orderId)).toEqual([
      'payment.authorize.v1',
      'warehouse.reserve-stock.v1',
      'warehouse.release-stock.v1',
    ]);
  });

  it('out of stock while the payment is authorised: the authorisation is voided, nothing released, CANCELLED OUT_OF_STOCK', async () => {
    const sku = freshSku();
    await stock(sku, 10);
    const order = await whileStopped(services.warehouse, async () => {
      const placed = await place(sku, { quantity: 50 });
      await waitFor(async () => (await payments(placed.orderId))[0]?.status === 'AUTHORIZED', {
        what: 'the payment to be authorised',
      });
      expect((await sagaOf(placed.orderId)).state).toBe('AuthorizingAndReserving');
      return placed;
    });
    expect(await settled(order.orderId)).toMatchObject({ status: 'CANCELLED', statusReason: 'OUT_OF_STOCK' });
    expect((await payments(order.orderId)).map((p) => p.status)).toEqual(['VOIDED']);
    expect(await moneyKept(order.orderId)).toBe(0);
    expect(await stock(sku)).toMatchObject({ onHand: 10, reserved: 0 });
    expect(await commandsOf(order.orderId)).toEqual([
      'payment.authorize.v1',
      'warehouse.reserve-stock.v1',
      'payment.void.v1',
    ]);
  });
});

describe('contention', () => {
  it('sells exactly the stock there is when many orders want it at once', async () => {
    const sku = freshSku();
    await stock(sku, 5);
    const orders = await Promise.all(Array.from({ length: 20 }, () => place(sku)));
    const finals = await Promise.all(orders.map((o) => settled(o.orderId, 60_000)));
    const served = finals.filter((o) => o.status !== 'CANCELLED');
    expect(served).toHaveLength(5);
    expect(finals.filter((o) => o.status === 'CANCELLED').every((o) => o.statusReason === 'OUT_OF_STOCK')).toBe(true);
    await Promise.all(served.map((o) => status(o.orderId, 'SHIPPED')));
    expect(await stock(sku)).toMatchObject({ onHand: 0, reserved: 0 });
    const kept = await Promise.all(finals.map((o) => moneyKept(o.orderId)));
    expect(kept.reduce((a, b) => a + b, 0)).toBe(5 * 2500);
  }, 120_000);
});
