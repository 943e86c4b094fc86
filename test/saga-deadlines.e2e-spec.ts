// Saga deadlines with the whole suite as real processes: a payment that does not answer in time is given up by the
// saga's own deadline (the payment service itself would wait longer), the order is cancelled TIMED_OUT and the late
// approval is released; a deadline pending while the orchestrator is killed still fires after it restarts, once.
// The payment deadline is compressed to 3 s and the delivery deadline to 3 s by configuration (SAGA_DEADLINES); the
// defaults stay minutes and days. The carrier reports a delivery only when told to (its test hook), so an order whose
// delivery is not reported parks in ShipmentNeedsAttention, where an operator retries or resolves it.
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
// The gateway answers tok_slow after 6 s and tok_async's approval comes after 4 s: both after the saga's 3 s.
const gateway = new SimulatorProcess('payment-gateway', base + 10, { SLOW_DELAY_MS: '6000', ASYNC_DELAY_MS: '4000' });
const carrier = new SimulatorProcess('carrier', base + 11, { DELIVERY_DELAY_MS: '0' });
const common = { RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '400', RATE_LIMIT_REQUESTS: '1000000' };
const sagaOverrides = { ...common, SAGA_DEADLINES: 'payment=3s,delivery=3s', SCHEDULER_POLL_INTERVAL_MS: '100' };
// The payment service waits for the slow gateway longer than the saga waits for the payment service.
const paymentOverrides = { ...common, PAYMENT_GATEWAY_URL: gateway.url, PAYMENT_GATEWAY_TIMEOUT_MS: '10000' };
const services = {
  order: new ServiceProcess('order', common),
  payment: new ServiceProcess('payment', paymentOverrides),
  warehouse: new ServiceProcess('warehouse', common),
  logistics: new ServiceProcess('logistics', { ...common, CARRIER_URL: carrier.url }),
  saga: new ServiceProcess('saga', sagaOverrides),
};
let merchant: TestMerchant;

type Order = { orderId: string; status: string; statusReason?: string };
type Payment = { status: string; amount: number };
type HistoryEntry = {
  kind: string;
  messageType: string;
  fromState?: string;
  toState?: string;
  detail: Record<string, unknown>;
};
type Saga = { state: string; history: HistoryEntry[] };

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  return (await res.json()) as T;
}

async function place(token: string): Promise<string> {
  const sku = `DEADLINE-${randomUUID().slice(0, 8)}`;
  await json(`${services.warehouse.url}/stock/${sku}`, {
    method: 'PUT',
    headers: asOperator(),
    body: JSON.stringify({ onHand: 5 }),
  });
  const res = await fetch(`${services.order.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(merchant.apiKey) },
    body: JSON.stringify({
      customerId: 'customer-deadlines',
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

const saga = (orderId: string) => json<Saga>(`${services.saga.url}/sagas/${orderId}`, { headers: asOperator() });

async function settled(orderId: string, timeoutMs = 30_000): Promise<Order> {
  return waitFor(
    async () => {
      const order = await json<Order>(`${services.order.url}/orders/${orderId}`, { headers: bearer(merchant.apiKey) });
      return ['SHIPPED', 'DELIVERED', 'CANCELLED'].includes(order.status) && order;
    },
    { timeoutMs, intervalMs: 200, what: `order ${orderId} to settle` },
  );
}

/** Once the gateway's late answer is in, nothing may hold or keep the customer's money. */
async function moneyReleased(orderId: string): Promise<Payment[]> {
  return waitFor(
    async () => {
      const payments = await json<Payment[]>(`${services.payment.url}/payments?orderId=${orderId}`, {
        headers: asOperator(),
      });
      return (
        payments.length > 0 &&
        payments.every((p) => !['PENDING', 'AUTHORIZED', 'CAPTURED'].includes(p.status)) &&
        payments
      );
    },
    { timeoutMs: 20_000, intervalMs: 250, what: `the payment of ${orderId} to hold nothing` },
  );
}

const deadlineFirings = (s: Saga) =>
  s.history.filter((h) => h.kind === 'event' && h.messageType === 'deadline.payment-expired.v1');

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
  await gateway.start();
  await carrier.start();
  Object.values(services).forEach((s) => s.start());
  await Promise.all(Object.values(services).map((s) => s.waitReady()));
  merchant = await createMerchant(services.order.url, 'Deadlines');
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services).map((s) => s.stop().catch(() => s.kill())));
  await gateway.stop();
  await carrier.stop();
});

describe('the payment deadline', () => {
  it.each([
    ['a gateway that answers after the deadline', 'tok_slow'],
    ['an asynchronous approval that arrives after the deadline', 'tok_async'],
  ])('%s: the order is cancelled TIMED_OUT and the late approval released', async (_what, token) => {
    const orderId = await place(token);
    expect(await settled(orderId)).toMatchObject({ status: 'CANCELLED', statusReason: 'TIMED_OUT' });

    const s = await saga(orderId);
    expect(s.state).toBe('Final');
    expect(deadlineFirings(s)).toHaveLength(1);
    expect(s.history.find((h) => h.kind === 'deadline' && h.detail.action === 'scheduled')).toMatchObject({
      toState: 'AuthorizingAndReserving',
      detail: { deadline: 'payment', attempt: 1 },
    });
    expect(await moneyReleased(orderId)).not.toHaveLength(0);
  });

  it('is withdrawn when the payment answers in time, and never fires', async () => {
    const orderId = await place('tok_ok');
    expect((await settled(orderId)).status).not.toBe('CANCELLED');
    const s = await saga(orderId);
    expect(
      s.history.some(
        (h) => h.kind === 'deadline' && h.detail.action === 'cancelled' && h.detail.deadline === 'payment',
      ),
    ).toBe(true);
    expect(deadlineFirings(s)).toHaveLength(0);
  });
});

describe('an orchestrator killed while a deadline is pending', () => {
  it('fires the deadline after its restart, once', async () => {
    const orderId = await place('tok_slow');
    await waitFor(async () => (await saga(orderId)).state === 'AuthorizingAndReserving', {
      what: 'the saga to await payment',
    });
    // The payment service goes too, so the slow approval cannot reach the saga before its deadline does, however long
    // a restart takes on a busy machine: the test is about the deadline surviving the restart, not about that race.
    services.saga.kill();
    services.payment.kill();
    await services.saga.exitCode();
    await services.payment.exitCode();
    // Past the deadline while no orchestrator runs.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    services.saga = new ServiceProcess('saga', sagaOverrides);
    await services.saga.start().waitReady();
    await waitFor(async () => deadlineFirings(await saga(orderId)).length > 0, {
      what: 'the payment deadline to fire after the restart',
    });
    services.payment = new ServiceProcess('payment', paymentOverrides);
    await services.payment.start().waitReady();

    expect(await settled(orderId)).toMatchObject({ status: 'CANCELLED', statusReason: 'TIMED_OUT' });
    // Long after, still once.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(deadlineFirings(await saga(orderId))).toHaveLength(1);
    await moneyReleased(orderId);
  });
});

describe('an operator', () => {
  async function act(
    orderId: string,
    action: string,
    body: unknown = { note: `${action} by the e2e test` },
    headers = asOperator(),
  ) {
    const res = await fetch(`${services.saga.url}/sagas/${orderId}/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Saga & { detail?: string } };
  }

  async function parked(orderId: string): Promise<Saga> {
    return waitFor(
      async () => {
        const s = await saga(orderId);
        return s.state === 'ShipmentNeedsAttention' && s;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: `the saga of ${orderId} to park` },
    );
  }

  it('finds an order whose delivery never came parked with the reason, retries it, and it completes', async () => {
    const orderId = await place('tok_ok');
    const stuck = await parked(orderId);
    expect((stuck as Saga & { data: { attention?: { reason: string; state: string } } }).data.attention).toMatchObject({
      reason: 'the carrier never reported the delivery',
      state: 'AwaitingDelivery',
    });
    // Not offered here: the goods are on their way, nothing can be undone by the saga.
    expect((await act(orderId, 'compensate')).status).toBe(409);
    expect((await act(orderId, 'retry', {})).status).toBe(400);
    expect((await act(orderId, 'retry', { note: 'x' }, bearer(merchant.apiKey))).status).toBe(401);

    const retried = await act(orderId, 'retry', { note: 'the carrier says it is on the van' });
    expect(retried.status).toBe(200);
    expect(retried.body.state).toBe('AwaitingDelivery');
    expect(retried.body.history.find((h) => h.kind === 'operator')).toMatchObject({
      messageType: 'operator.retry.v1',
      fromState: 'ShipmentNeedsAttention',
      detail: { action: 'retry', note: 'the carrier says it is on the van' },
    });
    const [shipment] = await json<{ shipmentId: string }[]>(`${services.logistics.url}/shipments?orderId=${orderId}`, {
      headers: asOperator(),
    });
    const delivered = await fetch(`${services.logistics.url}/shipments/${shipment.shipmentId}/delivered`, {
      method: 'POST',
      headers: asOperator(),
    });
    expect(delivered.ok).toBe(true);
    await waitFor(async () => (await saga(orderId)).state === 'Final', { what: 'the saga to complete' });
    expect(
      (await json<Order>(`${services.order.url}/orders/${orderId}`, { headers: bearer(merchant.apiKey) })).status,
    ).toBe('DELIVERED');
  });

  it('resolves a parked saga by hand, with a note, and nothing is possible after that', async () => {
    const orderId = await place('tok_ok');
    await parked(orderId);
    const resolved = await act(orderId, 'resolve', { note: 'delivered, confirmed by phone; ticket 4711' });
    expect(resolved.status).toBe(200);
    expect(resolved.body.state).toBe('Final');
    expect(resolved.body.history.filter((h) => h.kind === 'operator').map((h) => h.detail.note)).toEqual([
      'delivered, confirmed by phone; ticket 4711',
    ]);
    expect((await act(orderId, 'resolve')).status).toBe(409);
    expect((await act(randomUUID(), 'resolve')).status).toBe(404);
  });

  it('forces the compensation of an order still waiting for its payment: released and cancelled', async () => {
    const orderId = await place('tok_async');
    await waitFor(async () => (await saga(orderId)).state === 'AuthorizingAndReserving', {
      what: 'the saga to await payment',
    });
    expect((await act(orderId, 'compensate', { note: 'the customer phoned: stop it' })).status).toBe(200);
    expect(await settled(orderId)).toMatchObject({ status: 'CANCELLED', statusReason: 'TIMED_OUT' });
    await moneyReleased(orderId);
  });
});
