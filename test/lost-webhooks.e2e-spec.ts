// Third parties that lose their webhooks, with the whole suite as real processes: the gateway drops every callback
// and the carrier every delivery report (WEBHOOK_DROP_RATE=1), yet an order paid asynchronously is delivered, because
// payment and logistics ask them (docs/messaging.md, "Results that come by webhook"); an order whose delivery the
// carrier never makes is parked for an operator, with the reason, as soon as the carrier poll's window ends (15 s
// here, by configuration; days in production) instead of after the saga's 14-day deadline; and a carrier restarted
// from its state file makes the deliveries that fell due while it was down, which the poll then finds (and a gateway
// restarted from its file completes the authorisations that fell due while it was down).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  asOperator,
  bearer,
  createMerchant,
  RabbitMqManagement,
  ServiceProcess,
  SimulatorProcess,
  type TestMerchant,
  testEnvironment,
  waitFor,
} from '@orderflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const base = Number(process.env.ORDERFLOW_HTTP_PORT_BASE ?? 3100);
const carrierState = join(mkdtempSync(join(tmpdir(), 'orderflow-carrier-')), 'carrier.json');
const gatewayState = join(mkdtempSync(join(tmpdir(), 'orderflow-gateway-')), 'gateway.json');
/** A gateway that completes `tok_async` authorisations after `asyncDelayMs` and calls nobody back. */
const gatewayWith = (asyncDelayMs: number) =>
  new SimulatorProcess('payment-gateway', base + 10, {
    ASYNC_DELAY_MS: String(asyncDelayMs),
    WEBHOOK_DROP_RATE: '1',
    STATE_FILE: gatewayState,
  });
let gateway = gatewayWith(300);
/** A carrier that delivers when told to (its test hook), or DELIVERY_DELAY_MS after booking, and reports nothing. */
const carrierWith = (deliveryDelayMs: number) =>
  new SimulatorProcess('carrier', base + 11, {
    DELIVERY_DELAY_MS: String(deliveryDelayMs),
    WEBHOOK_DROP_RATE: '1',
    STATE_FILE: carrierState,
  });
let carrier = carrierWith(0);
const common = { RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '400', RATE_LIMIT_REQUESTS: '1000000' };
const polls = { SCHEDULER_POLL_INTERVAL_MS: '100' };
const services = {
  order: new ServiceProcess('order', common),
  payment: new ServiceProcess('payment', {
    ...common,
    ...polls,
    PAYMENT_GATEWAY_URL: gateway.url,
    PAYMENT_AUTHORIZATION_POLL_FIRST_INTERVAL: '1s',
    PAYMENT_AUTHORIZATION_POLL_MAX_INTERVAL: '2s',
  }),
  warehouse: new ServiceProcess('warehouse', common),
  logistics: new ServiceProcess('logistics', {
    ...common,
    ...polls,
    CARRIER_URL: carrier.url,
    CARRIER_DELIVERY_POLL_FIRST_INTERVAL: '1s',
    CARRIER_DELIVERY_POLL_MAX_INTERVAL: '2s',
    CARRIER_DELIVERY_POLL_WINDOW: '15s',
  }),
  saga: new ServiceProcess('saga', common),
};
let merchant: TestMerchant;
let logisticsDb: pg.Client;

type Order = { orderId: string; status: string };
type Saga = { state: string; data: { attention?: { reason: string; state: string } } };

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  return (await res.json()) as T;
}

async function place(token: string): Promise<string> {
  const sku = `LOST-WEBHOOK-${randomUUID().slice(0, 8)}`;
  await json(`${services.warehouse.url}/stock/${sku}`, {
    method: 'PUT',
    headers: asOperator(),
    body: JSON.stringify({ onHand: 5 }),
  });
  const res = await fetch(`${services.order.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(merchant.apiKey) },
    body: JSON.stringify({
      customerId: 'customer-lost-webhooks',
      currency: 'EUR',
      items: [{ sku, quantity: 1, unitPrice: 1500 }],
      payment: { method: 'card', token },
      shippingAddress: {
        name: 'Grace Hopper',
        line1: '1 Navy Way',
        city: 'Arlington',
        postalCode: '22202',
        country: 'US',
      },
    }),
  });
  const order = (await res.json()) as Order;
  if (res.status !== 202) throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(order)}`);
  return order.orderId;
}

const orderStatus = async (orderId: string) =>
  (await json<Order>(`${services.order.url}/orders/${orderId}`, { headers: bearer(merchant.apiKey) })).status;

const reachesStatus = (orderId: string, status: string, timeoutMs = 30_000) =>
  waitFor(async () => (await orderStatus(orderId)) === status, {
    timeoutMs,
    intervalMs: 200,
    what: `order ${orderId} ${status}`,
  });

const saga = (orderId: string) => json<Saga>(`${services.saga.url}/sagas/${orderId}`, { headers: asOperator() });

/** The id the carrier booked the order's shipment under. */
async function carrierShipmentOf(orderId: string): Promise<string> {
  const { rows } = await logisticsDb.query<{ id: string }>(
    'SELECT carrier_shipment_id AS id FROM shipments WHERE order_id = $1',
    [orderId],
  );
  return rows[0].id;
}

beforeAll(async () => {
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
  logisticsDb = new pg.Client({ connectionString: testEnvironment.databaseUrl('logistics') });
  await logisticsDb.connect();
  await gateway.start();
  await carrier.start();
  Object.values(services).forEach((s) => s.start());
  await Promise.all(Object.values(services).map((s) => s.waitReady()));
  merchant = await createMerchant(services.order.url, 'Lost webhooks');
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services).map((s) => s.stop().catch(() => s.kill())));
  await gateway.stop();
  await carrier.stop();
  await logisticsDb?.end();
});

describe('third parties that never call back', () => {
  it('an order paid asynchronously and delivered is DELIVERED: both results are found by asking', async () => {
    const orderId = await place('tok_async');
    await reachesStatus(orderId, 'SHIPPED');
    const delivered = await fetch(`${carrier.url}/v1/shipments/${await carrierShipmentOf(orderId)}/deliver`, {
      method: 'POST',
    });
    expect(delivered.status).toBe(202);
    await reachesStatus(orderId, 'DELIVERED');
    expect((await saga(orderId)).state).toBe('Final');
    expect(gateway.output.join('')).toContain('callback dropped');
    expect(carrier.output.join('')).toContain('delivery report dropped');
  });

  it('an order whose delivery never comes is parked when the poll’s window ends, with the reason', async () => {
    const orderId = await place('tok_ok');
    await reachesStatus(orderId, 'SHIPPED');
    const parked = await waitFor(
      async () => {
        const s = await saga(orderId);
        return s.state === 'ShipmentNeedsAttention' && s;
      },
      { timeoutMs: 40_000, intervalMs: 250, what: `the saga of ${orderId} to park` },
    );
    expect(parked.data.attention).toMatchObject({
      state: 'AwaitingDelivery',
      reason: 'the carrier never reported the delivery: asking the carrier for 15s found no delivery',
    });
    expect(await orderStatus(orderId)).toBe('SHIPPED');
  });
});

describe('a carrier restarted from its state file', () => {
  it('makes the delivery that fell due while it was down, and the poll finds it', async () => {
    await carrier.stop();
    carrier = await carrierWith(2_000).start();
    const orderId = await place('tok_ok');
    await reachesStatus(orderId, 'SHIPPED');
    await carrier.stop();
    // Down past the delivery's due time: only what the file kept can deliver it.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    carrier = await carrierWith(2_000).start();
    await reachesStatus(orderId, 'DELIVERED');
    expect(carrier.output.join('')).toMatch(/"message":"state loaded".*"overdueDeliveries":[1-9]/);
  });
});

describe('a gateway restarted from its state file', () => {
  it('completes the authorisation that fell due while it was down, and the poll finds it', async () => {
    await gateway.stop();
    gateway = await gatewayWith(2_000).start();
    const orderId = await place('tok_async');
    await waitFor(
      async () => {
        const [payment] = await json<{ status: string }[]>(`${services.payment.url}/payments?orderId=${orderId}`, {
          headers: asOperator(),
        });
        return payment?.status === 'PENDING';
      },
      { what: `the payment of ${orderId} PENDING` },
    );
    await gateway.stop();
    // Down past the authorisation's due time: only what the file kept can complete it.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    gateway = await gatewayWith(2_000).start();
    await waitFor(async () => ['SHIPPED', 'DELIVERED'].includes(await orderStatus(orderId)), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `order ${orderId} to ship`,
    });
    expect(gateway.output.join('')).toMatch(/"message":"state loaded".*"overdue":[1-9]/);
  });
});
