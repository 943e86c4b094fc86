// Load shedding against the real process: with the saga and the services behind it not running, every placed order
// stays PENDING, so a bound on orders in flight is reached by placing orders. Past it POST /orders answers 503 with
// Retry-After and problem details and places nothing, readiness stays green and the refusal is counted; once an
// order leaves PENDING (the saga's status report), orders are taken again. A replica started while its outbox is
// behind refuses on that account from its first request, ready all the while, until a sample finds the lag gone.
import { randomUUID } from 'node:crypto';
import { OrderStatusChanged } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope } from '@orderflow/messaging';
import {
  bearer,
  connectBrokerAs,
  createMerchant,
  freePort,
  ServiceProcess,
  type TestMerchant,
  testEnvironment,
  waitFor,
} from '@orderflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let service: ServiceProcess;
/** The saga's broker user: what the saga sends, only it may (ADR 0016). */
let admin: BrokerConnection;
let db: pg.Client;
let merchant: TestMerchant;
let bound: number;

const orderBody = () => ({
  customerId: `customer-${randomUUID().slice(0, 8)}`,
  currency: 'EUR',
  items: [{ sku: 'SKU-CHAIR-01', quantity: 1, unitPrice: 4999 }],
  payment: { method: 'card', token: 'tok_ok' },
  shippingAddress: {
    name: 'Ada Lovelace',
    line1: '12 St James Square',
    city: 'London',
    postalCode: 'SW1Y 4JH',
    country: 'GB',
  },
});

async function place(replica = service) {
  const res = await fetch(`${replica.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(merchant.apiKey) },
    body: JSON.stringify(orderBody()),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

async function metric(name: string, labels: string, replica = service): Promise<number | undefined> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function ordersOfMerchant(): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE merchant_id = $1', [
    merchant.merchantId,
  ]);
  return rows[0].n;
}

async function reportConfirmed(orderId: string): Promise<void> {
  const event = envelope(
    OrderStatusChanged,
    orderId,
    { orderId, status: 'CONFIRMED' },
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
  db = new pg.Client({ connectionString: testEnvironment.databaseUrl('order') });
  await db.connect();
  // The test profile's database keeps other files' PENDING orders (no saga runs there): the bound is one more than
  // those, so this file's first order is the one that reaches it.
  const [{ exists }] = (await db.query<{ exists: boolean }>(`SELECT to_regclass('orders') IS NOT NULL AS exists`)).rows;
  const pending = exists
    ? (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'`)).rows[0].n
    : 0;
  bound = pending + 1;
  admin = await connectBrokerAs('saga', 'e2e@load-shedding');
  service = new ServiceProcess('order', {
    LOAD_SHEDDING_MAX_ORDERS_IN_FLIGHT: String(bound),
    LOAD_SHEDDING_SAMPLE_INTERVAL_MS: '100',
    LOAD_SHEDDING_RETRY_AFTER_SECONDS: '2',
  });
  await service.start().waitReady();
  merchant = await createMerchant(service.url, 'Load shedding e2e');
});

afterAll(async () => {
  await service?.stop();
  await admin?.close();
  await db?.end();
});

describe('POST /orders under overload', () => {
  it('takes orders under the bound, refuses them with 503 and Retry-After at it, and takes them again below it', async () => {
    const first = await place();
    expect(first.res.status).toBe(202);
    const orderId = first.body.orderId as string;

    // The monitor samples in the background; once it has seen the new order, placement is refused.
    await waitFor(async () => ((await metric('orderflow_backlog_level', 'signal="orders_in_flight"')) ?? 0) >= bound, {
      what: 'the backlog sample to reach the bound',
    });
    const placedBefore = await ordersOfMerchant();
    const refused = await place();
    expect(refused.res.status).toBe(503);
    expect(refused.res.headers.get('content-type')).toContain('application/problem+json');
    const retryAfter = Number(refused.res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(2);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect(refused.body).toMatchObject({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      reason: 'orders_in_flight',
      level: bound,
      bound,
      instance: '/orders',
    });
    expect(refused.body.detail).toContain(`is at ${bound}, at or past its bound of ${bound} (orders_in_flight)`);
    expect(await ordersOfMerchant()).toBe(placedBefore);

    // Shedding is the service working: it stays in its load balancer.
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    expect(await metric('orderflow_load_shed_requests_total', 'reason="orders_in_flight"')).toBe(1);
    expect(await metric('orderflow_backlog_bound', 'signal="orders_in_flight"')).toBe(bound);

    // Reads and work already taken are never shed.
    const read = await fetch(`${service.url}/orders/${orderId}`, { headers: bearer(merchant.apiKey) });
    expect(read.status).toBe(200);

    await reportConfirmed(orderId);
    const again = await waitFor(
      async () => {
        const attempt = await place();
        return attempt.res.status === 202 && attempt;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'placement to be taken again' },
    );
    expect(again.body).toMatchObject({ status: 'PENDING' });
  });
});

describe('a replica started behind its outbox', () => {
  it('refuses new orders while ready, says why, and takes them once the outbox has caught up', async () => {
    // A row that has waited a minute and that another replica's relay holds (its lease runs for another minute):
    // this replica's outbox is behind however quick its own relay is, so its first sample, at boot, finds the lag.
    const [{ id }] = (
      await db.query<{ id: string }>(
        `INSERT INTO outbox_messages (message_id, exchange, routing_key, ordering_key, properties, body, available_at,
                                      lease_until)
         VALUES (gen_random_uuid(), 'orderflow.events', 'order.placed.v1', gen_random_uuid()::text, '{}', '\\x00',
                 clock_timestamp() - interval '60 seconds', clock_timestamp() + interval '60 seconds')
         RETURNING id`,
      )
    ).rows;
    // Samples seconds apart, so a caller that trusted readiness alone would meet the stale verdict.
    const replica = new ServiceProcess('order', {
      PORT: String(await freePort()),
      LOAD_SHEDDING_SAMPLE_INTERVAL_MS: '3000',
    });
    try {
      await replica.start().waitReady(60_000, { degraded: true });
      const refused = await place(replica);
      expect(refused.res.status).toBe(503);
      expect(refused.res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(refused.body).toMatchObject({ reason: 'outbox_lag_seconds', bound: 10 });
      expect(refused.body.level).toBeGreaterThanOrEqual(60);
      expect((await fetch(`${replica.url}/health/ready`)).status).toBe(200);
      expect(await replica.takesNewWork()).toBe(false);
      expect(await metric('orderflow_load_shed_requests_total', 'reason="outbox_lag_seconds"', replica)).toBe(1);

      // Sent, as far as this replica can tell: the lag is gone, and from the next sample on orders are taken. A wait
      // for readiness alone returns before that sample; the test harness's waitReady waits for it.
      await db.query('DELETE FROM outbox_messages WHERE id = $1', [id]);
      await replica.waitReady();
      const taken = await place(replica);
      expect(taken.res.status).toBe(202);
      expect(taken.body).toMatchObject({ status: 'PENDING' });
    } finally {
      await db.query('DELETE FROM outbox_messages WHERE id = $1', [id]);
      await replica.stop();
    }
  });
});
