// Faults that must not become outages, with the five services and both simulators as real processes:
// - the broker away for a while: every replica stays ready (the broker shown degraded), orders are still taken into
//   the outbox, a replica started meanwhile serves too, and once the broker is back those orders are CONFIRMED, once;
// - PostgreSQL restarted, fast and immediate, under a trickle of requests: while it is down requests are answered 503
//   problem details with Retry-After (never 500, never a reset connection), readiness is red and no process dies;
//   once it is back requests succeed without a restart and every order taken reaches CONFIRMED, once.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  asOperator,
  bearer,
  createMerchant,
  freePort,
  RabbitMqManagement,
  ServiceProcess,
  SimulatorProcess,
  type TestMerchant,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const base = Number(process.env.ORDERFLOW_HTTP_PORT_BASE ?? 3100);
const gateway = new SimulatorProcess('payment-gateway', base + 10, { ASYNC_DELAY_MS: '300' });
const carrier = new SimulatorProcess('carrier', base + 11, { DELIVERY_DELAY_MS: '0' });
const settings = {
  RETRY_MAX_ATTEMPTS: '3',
  RETRY_BASE_DELAY_MS: '100',
  RETRY_MAX_DELAY_MS: '400',
  // The tests poll many orders several times a second, far past the default per-credential rate limit.
  RATE_LIMIT_REQUESTS: '1000000',
};
const services = {
  order: new ServiceProcess('order', settings),
  payment: new ServiceProcess('payment', { ...settings, PAYMENT_GATEWAY_URL: gateway.url }),
  warehouse: new ServiceProcess('warehouse', settings),
  logistics: new ServiceProcess('logistics', { ...settings, CARRIER_URL: carrier.url }),
  saga: new ServiceProcess('saga', settings),
};
const all = Object.values(services);
const extra: ServiceProcess[] = [];
let merchant: TestMerchant;

type Order = { orderId: string; status: string; totalAmount: number; history: { status: string }[] };
type Health = { status: string; details: Record<string, { status: string; message?: string }> };

/** The test profile's own broker or database, stopped or started the way an operator (or a crash) would. */
async function infra(script: 'broker-ctl.sh' | 'postgres-ctl.sh', ...args: string[]): Promise<void> {
  const child = spawn('bash', [`${ROOT}scripts/${script}`, ...args], {
    env: { ...process.env, ORDERFLOW_PROFILE: 'test' },
    stdio: 'inherit',
  });
  const [code] = (await once(child, 'exit')) as [number];
  expect(code, `${script} ${args.join(' ')}`).toBe(0);
}

async function health(service: ServiceProcess, which: 'live' | 'ready'): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${service.url}/health/${which}`);
  return { status: res.status, body: (await res.json()) as Health };
}

function placeRequest(sku: string, orderService: ServiceProcess = services.order): Promise<Response> {
  return fetch(`${orderService.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...bearer(merchant.apiKey) },
    body: JSON.stringify({
      customerId: 'customer-outages',
      currency: 'EUR',
      items: [{ sku, quantity: 1, unitPrice: 1000 }],
      payment: { method: 'card', token: 'tok_ok' },
      shippingAddress: {
        name: 'Ada Lovelace',
        line1: '1 Harbour St',
        city: 'Arlington',
        postalCode: '22201',
        country: 'US',
      },
    }),
  });
}

async function place(sku: string, orderService?: ServiceProcess): Promise<Order> {
  const res = await placeRequest(sku, orderService);
  expect(res.status).toBe(202);
  return (await res.json()) as Order;
}

async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Every order CONFIRMED (or past it), its total captured once, and the stock of `sku` reserved once per order. */
async function expectConfirmedOnce(orders: readonly Order[], sku: string, stockBefore: number): Promise<void> {
  for (const { orderId } of orders) {
    const order = await waitFor(
      async () => {
        const o = await getJson<Order>(`${services.order.url}/orders/${orderId}`, bearer(merchant.apiKey));
        return o.history.some((h) => h.status === 'CONFIRMED') && o;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `order ${orderId} to be CONFIRMED` },
    );
    expect(order.status).not.toBe('CANCELLED');
    const payments = await getJson<{ status: string; amount: number }[]>(
      `${services.payment.url}/payments?orderId=${orderId}`,
      asOperator(),
    );
    expect(payments.map((p) => p.amount)).toEqual([order.totalAmount]);
  }
  const stock = await getJson<{ available: number }>(`${services.warehouse.url}/stock/${sku}`, asOperator());
  expect(stock.available).toBe(stockBefore - orders.length);
}

async function newSku(onHand: number): Promise<string> {
  const sku = `OUTAGE-${randomUUID().slice(0, 8)}`;
  const res = await fetch(`${services.warehouse.url}/stock/${sku}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...asOperator() },
    body: JSON.stringify({ onHand }),
  });
  expect(res.ok).toBe(true);
  return sku;
}

beforeAll(async () => {
  // Leftovers of other test files (their services were not all running) would only add noise here.
  const management = new RabbitMqManagement();
  for (const queue of ['saga.events', 'payment.commands', 'warehouse.commands', 'logistics.commands']) {
    await management.delete(`/queues/orderflow/${queue}/contents`);
  }
  await gateway.start();
  await carrier.start();
  all.forEach((s) => s.start());
  await Promise.all(all.map((s) => s.waitReady()));
  merchant = await createMerchant(services.order.url, 'Outages');
}, 120_000);

afterAll(async () => {
  await Promise.all([...all, ...extra].map((s) => s.stop().catch(() => s.kill())));
  await gateway.stop();
  await carrier.stop();
});

describe('a broker outage', () => {
  it('keeps every service ready and taking orders, which are CONFIRMED once the broker is back', async () => {
    const sku = await newSku(100);
    await infra('broker-ctl.sh', 'stop');
    try {
      for (const service of all) {
        const ready = await waitFor(
          async () => {
            const { status, body } = await health(service, 'ready');
            return body.details.broker?.status === 'degraded' && { status, body };
          },
          { timeoutMs: 30_000, what: `${service.service} to show the broker degraded` },
        );
        expect(ready.status, service.service).toBe(200);
        expect(ready.body.details.database.status).toBe('up');
      }
      const orders: Order[] = [];
      for (let i = 0; i < 5; i += 1) orders.push(await place(sku));

      // A replica (re)started during the outage serves too, instead of exiting and crash-looping.
      const late = new ServiceProcess('order', { ...settings, PORT: String(await freePort()) });
      extra.push(late.start());
      await late.waitReady(30_000, { degraded: true });
      expect((await health(late, 'ready')).body.details.broker.status).toBe('degraded');
      orders.push(await place(sku, late));

      for (const service of [...all, late]) {
        expect((await health(service, 'live')).status, service.service).toBe(200);
        expect((await health(service, 'ready')).status, service.service).toBe(200);
      }
      const metrics = await (await fetch(`${services.order.url}/metrics`)).text();
      expect(metrics).toMatch(/^orderflow_broker_connected\{[^}]*\} 0$/m);
      // And one stopped during the outage exits cleanly, not waiting for a broker that is not there; what its relay
      // held goes back to the outbox for the others.
      expect(await late.stop()).toBe(0);

      await infra('broker-ctl.sh', 'start');
      await expectConfirmedOnce(orders, sku, 100);
      for (const service of all) {
        await waitFor(async () => (await health(service, 'ready')).body.details.broker?.status === 'up', {
          timeoutMs: 30_000,
          what: `${service.service} to show the broker up`,
        });
      }
    } finally {
      await infra('broker-ctl.sh', 'start');
    }
  }, 240_000);
});

describe.each(['fast', 'immediate'] as const)('a PostgreSQL restart (%s)', (mode) => {
  it('costs 503s with Retry-After only while it is down, kills no process, and loses no order', async () => {
    // Whatever an earlier test left in flight has reached the broker, so the order service sheds no load.
    for (const service of all) {
      await waitFor(async () => (await health(service, 'ready')).body.status === 'ok', {
        timeoutMs: 60_000,
        what: `${service.service} to be ready with every check up`,
      });
    }
    const sku = await newSku(100);
    const pids = all.map((s) => s.pid);
    const before = [await place(sku), await place(sku)];

    // A merchant placing an order every 100 ms throughout, keeping what each attempt was answered.
    const answers: { status: number; retryAfter: string | null; type: string | null; body: unknown }[] = [];
    const failures: string[] = [];
    const placed: Order[] = [];
    let trickling = true;
    const trickle = (async () => {
      while (trickling) {
        try {
          const res = await placeRequest(sku);
          const body = (await res.json()) as unknown;
          answers.push({
            status: res.status,
            retryAfter: res.headers.get('retry-after'),
            type: res.headers.get('content-type'),
            body,
          });
          if (res.status === 202) placed.push(body as Order);
        } catch (err) {
          failures.push((err as Error).message);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    await infra('postgres-ctl.sh', 'stop', mode);
    try {
      await waitFor(() => failures.length > 0 || answers.some((a) => a.status !== 202), {
        timeoutMs: 20_000,
        what: 'a refusal while down',
      });
      expect(failures, 'requests that got no answer (a process died?)').toEqual([]);
      for (const service of all) {
        const ready = await health(service, 'ready');
        expect(ready.status, service.service).toBe(503);
        expect(ready.body.details.database.status, service.service).toBe('down');
        expect((await health(service, 'live')).status, service.service).toBe(200);
        // Prometheus still gets the metrics that matter during the outage (HTTP, the broker), not a failed scrape.
        const metrics = await fetch(`${service.url}/metrics`);
        expect(metrics.status, `${service.service} /metrics`).toBe(200);
        expect(await metrics.text()).toMatch(/^orderflow_broker_connected\{[^}]*\} 1$/m);
      }
      // Reads of every service are refused the same way, not only placement.
      for (const url of [
        `${services.payment.url}/payments?orderId=${before[0].orderId}`,
        `${services.warehouse.url}/stock/${sku}`,
        `${services.logistics.url}/shipments?orderId=${before[0].orderId}`,
        `${services.saga.url}/sagas/${before[0].orderId}`,
      ]) {
        const res = await fetch(url, { headers: asOperator() });
        expect(res.status, url).toBe(503);
        expect(res.headers.get('retry-after'), url).toMatch(/^\d+$/);
        expect(await res.json(), url).toMatchObject({ status: 503, reason: 'database_unavailable' });
      }
    } finally {
      await infra('postgres-ctl.sh', 'start');
    }

    await Promise.all(all.map((s) => s.waitReady(60_000)));
    const afterRestart = answers.length;
    await waitFor(() => answers.slice(afterRestart).some((a) => a.status === 202), {
      timeoutMs: 20_000,
      what: 'placement to work again',
    });
    trickling = false;
    await trickle;

    expect(failures).toEqual([]);
    expect(all.map((s) => s.running)).toEqual(all.map(() => true));
    expect(all.map((s) => s.pid)).toEqual(pids);
    const refused = answers.filter((a) => a.status !== 202);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(answer).toMatchObject({
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/) as unknown,
        type: expect.stringContaining('application/problem+json') as unknown,
        body: { status: 503, reason: 'database_unavailable' },
      });
    }
    await expectConfirmedOnce([...before, ...placed, await place(sku)], sku, 100);
  }, 240_000);
});
