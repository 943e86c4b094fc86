// No payment token at rest in the clear (ADR 0015): orders go through every payment path — approved, declined,
// approved after transient failures, approved later by callback — with every service keeping its sent outbox rows;
// then every table of all five databases, every queue and dead-letter queue, and every service's log are searched for
// the tokens. Each token is unique to this run (the gateway simulator ignores what follows a `~`), so nothing an
// earlier run left behind can be mistaken for a leak, and a leak cannot hide behind a common word.
import { randomUUID } from 'node:crypto';
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import {
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
const gateway = new SimulatorProcess('payment-gateway', base + 10, { ASYNC_DELAY_MS: '300' });
const carrier = new SimulatorProcess('carrier', base + 11, { DELIVERY_DELAY_MS: '0' });
// Sent rows kept for an hour: what a deployment that keeps them for auditing would hold.
const settings = {
  OUTBOX_RETENTION_HOURS: '1',
  RETRY_BASE_DELAY_MS: '100',
  RETRY_MAX_DELAY_MS: '400',
  RATE_LIMIT_REQUESTS: '1000000',
};
const services: Record<ServiceName, ServiceProcess> = {
  order: new ServiceProcess('order', settings),
  payment: new ServiceProcess('payment', { ...settings, PAYMENT_GATEWAY_URL: gateway.url }),
  warehouse: new ServiceProcess('warehouse', settings),
  logistics: new ServiceProcess('logistics', { ...settings, CARRIER_URL: carrier.url }),
  saga: new ServiceProcess('saga', settings),
};
const management = new RabbitMqManagement();
let merchant: TestMerchant;

const run = randomUUID().replaceAll('-', '');
const TOKENS = ['tok_ok', 'tok_declined', 'tok_flaky', 'tok_async'].map((t) => `${t}~${run}`);

async function place(token: string): Promise<string> {
  const res = await fetch(`${services.order.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(merchant.apiKey) },
    body: JSON.stringify({
      customerId: 'customer-tokens',
      currency: 'EUR',
      items: [{ sku: 'SKU-TOKENS', quantity: 1, unitPrice: 1500 }],
      payment: { method: 'card', token },
      shippingAddress: { name: 'Ada', line1: '1 Way', city: 'London', postalCode: 'N1', country: 'GB' },
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { orderId: string }).orderId;
}

async function statusOf(orderId: string): Promise<string> {
  const res = await fetch(`${services.order.url}/orders/${orderId}`, { headers: bearer(merchant.apiKey) });
  return ((await res.json()) as { status: string }).status;
}

/** Rows of any table of the service's database that hold the needle as text, or as the hex of its UTF-8 (bytea). */
async function rowsHolding(service: ServiceName, needle: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: testEnvironment.databaseUrl(service) });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    expect(tables.length).toBeGreaterThan(2);
    const found: string[] = [];
    const hex = Buffer.from(needle).toString('hex');
    for (const { name } of tables) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${name} t WHERE t::text LIKE $1 OR t::text LIKE $2`,
        [`%${needle}%`, `%${hex}%`],
      );
      if (Number(rows[0].n) > 0) found.push(`${service}: ${rows[0].n} row(s) of ${name}`);
    }
    return found;
  } finally {
    await client.end();
  }
}

/** Every message of every queue of the vhost, peeked (requeued as it was), as text. */
async function queuedMessages(): Promise<{ queue: string; text: string }[]> {
  const queues = await management.get<{ name: string; messages?: number }[]>('/queues/orderflow');
  const out: { queue: string; text: string }[] = [];
  for (const { name, messages } of queues) {
    if (!messages) continue;
    const peeked = await management.postForJson<{ payload: string; payload_encoding: string; properties: unknown }[]>(
      `/queues/orderflow/${encodeURIComponent(name)}/get`,
      { count: messages, ackmode: 'ack_requeue_true', encoding: 'auto', truncate: 5_000_000 },
    );
    for (const m of peeked) {
      const payload = m.payload_encoding === 'base64' ? Buffer.from(m.payload, 'base64').toString('latin1') : m.payload;
      out.push({ queue: name, text: `${payload} ${JSON.stringify(m.properties)}` });
    }
  }
  return out;
}

beforeAll(async () => {
  await Promise.all([gateway.start(), carrier.start()]);
  await Promise.all(Object.values(services).map((s) => s.start().waitReady()));
  merchant = await createMerchant(services.order.url, 'Token merchant');
  await fetch(`${services.warehouse.url}/stock/SKU-TOKENS`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...bearer(process.env.ORDERFLOW_OPERATOR_TOKEN ?? '') },
    body: JSON.stringify({ onHand: 1000 }),
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services).map((s) => s.stop()));
  await Promise.all([gateway.stop(), carrier.stop()]);
});

describe('payment tokens', () => {
  it('are nowhere at rest in the clear once the orders have gone through every payment path', async () => {
    const orders = await Promise.all(TOKENS.map(place));
    const settled = await waitFor(
      async () => {
        const statuses = await Promise.all(orders.map(statusOf));
        return statuses.every((s) => s !== 'PENDING') && statuses;
      },
      { what: 'every order out of PENDING', timeoutMs: 60_000 },
    );
    // The paths the tokens name were taken: the declined one cancelled, the others confirmed (or further on).
    expect(settled[1]).toBe('CANCELLED');
    for (const i of [0, 2, 3]) expect(settled[i]).not.toMatch(/PENDING|CANCELLED/);

    const leaks: string[] = [];
    for (const service of SERVICE_NAMES) leaks.push(...(await rowsHolding(service, run)));
    for (const { queue, text } of await queuedMessages()) {
      if (text.includes(run)) leaks.push(`queue ${queue}`);
    }
    for (const service of SERVICE_NAMES) {
      const lines = services[service].rawOutput.filter((line) => line.includes(run));
      if (lines.length) leaks.push(`${service}'s log: ${lines.length} line(s)`);
    }
    expect(leaks).toEqual([]);

    // The search can find what it looks for: the sealed tokens are there, in the kept outbox rows.
    const kept = await rowsHolding('order', 'order.placed.v1');
    expect(kept.join()).toContain('outbox_messages');
  }, 120_000);
});
