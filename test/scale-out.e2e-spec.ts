// Three replicas of every service at once, on this machine: orders placed through every order replica, each
// message taken by whichever replica is free, relays on every replica claiming outbox rows with SKIP LOCKED, saga
// instances updated under optimistic concurrency — and still every order ends right, once, with money and stock as
// they must be. The broker's console shows each queue with one consumer per replica.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ORDERFLOW_ROUTING } from '@orderflow/contracts';
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import {
  asOperator,
  bearer,
  createMerchant,
  freePort,
  RabbitMqManagement,
  ServiceProcess,
  simulatorPorts,
  SimulatorProcess,
  type TestMerchant,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPLICAS = 3;
const ports = simulatorPorts();
const gateway = new SimulatorProcess('payment-gateway', ports.paymentGateway);
const carrier = new SimulatorProcess('carrier', ports.carrier, { DELIVERY_DELAY_MS: '300' });
const replicas = {} as Record<ServiceName, ServiceProcess[]>;
let merchant: TestMerchant;

type Order = { orderId: string; status: string; statusReason?: string; totalAmount: number };

async function json<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  return { status: res.status, body: (await res.json()) as T };
}

/** A different replica for each call, as a load balancer would spread them. */
let turn = 0;
const anyReplica = (service: ServiceName) => replicas[service][turn++ % REPLICAS];

beforeAll(async () => {
  const management = new RabbitMqManagement();
  for (const queue of ORDERFLOW_ROUTING.queues) await management.delete(`/queues/orderflow/${queue.name}/contents`);
  await gateway.start();
  await carrier.start();
  for (const service of SERVICE_NAMES) {
    replicas[service] = [];
    for (let i = 0; i < REPLICAS; i += 1) {
      const overrides: Record<string, string> = { RATE_LIMIT_REQUESTS: '1000000' };
      // The first replica on the profile's port, the others wherever there is room.
      if (i > 0) overrides.PORT = String(await freePort());
      if (service === 'payment') overrides.PAYMENT_GATEWAY_URL = gateway.url;
      if (service === 'logistics') overrides.CARRIER_URL = carrier.url;
      replicas[service].push(new ServiceProcess(service, overrides));
    }
  }
  const all = SERVICE_NAMES.flatMap((s) => replicas[s]);
  all.forEach((p) => p.start());
  await Promise.all(all.map((p) => p.waitReady(120_000)));
  merchant = await createMerchant(replicas.order[0].url, 'Scale-out');
}, 180_000);

afterAll(async () => {
  await Promise.all(SERVICE_NAMES.flatMap((s) => replicas[s] ?? []).map((p) => p.stop().catch(() => p.kill())));
  await gateway.stop();
  await carrier.stop();
});

describe(`${REPLICAS} replicas of every service`, () => {
  it('show in the RabbitMQ console: a named connection per replica, one consumer per replica on every queue', async () => {
    const management = new RabbitMqManagement();
    for (const queue of ORDERFLOW_ROUTING.queues) {
      const shown = await waitFor(
        async () => {
          const q = await management.get<{ consumers: number }>(`/queues/orderflow/${queue.name}`);
          return q.consumers >= REPLICAS && q;
        },
        { what: `${REPLICAS} consumers on ${queue.name}` },
      );
      expect(shown.consumers).toBe(REPLICAS);
    }
    const connections = await management.connections();
    for (const service of SERVICE_NAMES) {
      const named = connections.filter((c) => c.client_properties.connection_name === `${service}@${hostname()}`);
      expect(named.length, service).toBe(REPLICAS);
      expect(named.every((c) => c.user === service)).toBe(true);
    }
  });

  it('carry every order to its right end, once, with money and stock to match', async () => {
    const sku = `SCALE-${randomUUID().slice(0, 8)}`;
    const onHand = 100;
    const put = await json(`${anyReplica('warehouse').url}/stock/${sku}`, {
      method: 'PUT',
      headers: asOperator(),
      body: JSON.stringify({ onHand }),
    });
    expect(put.status).toBe(200);

    const plan = [...Array.from({ length: 24 }, () => 'tok_ok'), ...Array.from({ length: 6 }, () => 'tok_declined')];
    const placed = await Promise.all(
      plan.map(async (token) => {
        const { status, body } = await json<Order>(`${anyReplica('order').url}/orders`, {
          method: 'POST',
          headers: bearer(merchant.apiKey),
          body: JSON.stringify({
            customerId: 'customer-scale',
            currency: 'EUR',
            items: [{ sku, quantity: 2, unitPrice: 1500 }],
            payment: { method: 'card', token },
            shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Leeds', postalCode: 'LS1 1AA', country: 'GB' },
          }),
        });
        expect(status).toBe(202);
        return { token, orderId: body.orderId };
      }),
    );

    const ended = await Promise.all(
      placed.map(({ token, orderId }) =>
        waitFor(
          async () => {
            const { body } = await json<Order>(`${anyReplica('order').url}/orders/${orderId}`, {
              headers: bearer(merchant.apiKey),
            });
            return ['DELIVERED', 'CANCELLED'].includes(body.status) && { token, order: body };
          },
          { timeoutMs: 90_000, intervalMs: 500, what: `order ${orderId} to end` },
        ),
      ),
    );
    for (const { token, order } of ended) {
      if (token === 'tok_ok') expect(order.status, order.orderId).toBe('DELIVERED');
      else expect(order, order.orderId).toMatchObject({ status: 'CANCELLED', statusReason: 'PAYMENT_DECLINED' });
    }

    // Money: exactly each delivered order's total captured, once; nothing kept for a declined one.
    for (const { token, order } of ended) {
      const { body: payments } = await json<{ status: string; amount: number }[]>(
        `${anyReplica('payment').url}/payments?orderId=${order.orderId}`,
        { headers: asOperator() },
      );
      const kept = payments.filter((p) => p.status === 'CAPTURED').reduce((sum, p) => sum + p.amount, 0);
      expect(kept, order.orderId).toBe(token === 'tok_ok' ? order.totalAmount : 0);
      expect(payments.length, order.orderId).toBeLessThanOrEqual(1);
    }

    // Stock: two units gone for each delivered order, none held back.
    const { body: stock } = await json<{ onHand: number; reserved: number }>(
      `${anyReplica('warehouse').url}/stock/${sku}`,
      { headers: asOperator() },
    );
    expect(stock).toMatchObject({ onHand: onHand - 2 * 24, reserved: 0 });

    // Every saga finished, and each ended with the outcome of its order.
    for (const { order } of ended) {
      const { body: saga } = await json<{ state: string }>(`${anyReplica('saga').url}/sagas/${order.orderId}`, {
        headers: asOperator(),
      });
      expect(saga.state, order.orderId).toBe('Final');
    }
  }, 150_000);
});
