// The operator console as an operator uses it, in a real headless browser: the five services and the payment
// gateway's simulator as real processes, an order whose card is declined, and then the console served by the saga
// orchestrator — signed in with the operator token, it counts the sagas by state, shows the order's timeline in the
// order things happened, and lists every service's dead-letter queues through the orchestrator; a wrong token shows
// an error and no data. With the delivery deadline compressed to 3 s (SAGA_DEADLINES) and a carrier that reports
// deliveries only through its test hook, an order parks in ShipmentNeedsAttention: the operator sees why, is refused
// what that state does not offer, and resolves it with a note. The daily work on many: sagas and dead letters
// filtered and searched, a batch resolved or replayed with a note, each item's outcome shown (one changed meanwhile
// is skipped, not acted on), each item recorded in the operator-actions audit under the batch; auto-refresh that
// rests while the tab is hidden; and the same batches through the API, refused to anyone but an operator.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { VoidPayment } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope } from '@orderflow/messaging';
import {
  asOperator,
  bearer,
  connectAdminBroker,
  createMerchant,
  launchChromium,
  operatorToken,
  ServiceProcess,
  SimulatorProcess,
  testArtifactPath,
  type TestMerchant,
  waitFor,
} from '@orderflow/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const base = Number(process.env.ORDERFLOW_HTTP_PORT_BASE ?? 3100);
const gateway = new SimulatorProcess('payment-gateway', base + 10);
// DELIVERY_DELAY_MS=0: the carrier never reports a delivery by itself, so the delivery deadline is what ends the wait.
const carrier = new SimulatorProcess('carrier', base + 11, { DELIVERY_DELAY_MS: '0' });
const quick = { RETRY_MAX_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '100', RATE_LIMIT_REQUESTS: '1000000' };
const services = {
  order: new ServiceProcess('order', quick),
  payment: new ServiceProcess('payment', { ...quick, PAYMENT_GATEWAY_URL: gateway.url }),
  warehouse: new ServiceProcess('warehouse', quick),
  logistics: new ServiceProcess('logistics', { ...quick, CARRIER_URL: carrier.url }),
  saga: new ServiceProcess('saga', { ...quick, SAGA_DEADLINES: 'delivery=3s', SCHEDULER_POLL_INTERVAL_MS: '100' }),
};
const all = Object.values(services);
const consoleUrl = () => `${services.saga.url}/console`;

let merchant: TestMerchant;
let declinedOrderId: string;
let browser: Browser;
let context: BrowserContext | undefined;
let admin: BrokerConnection;

async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/** A fresh browser tab with nothing in its session storage. */
async function newPage(): Promise<Page> {
  context = await browser.newContext();
  return context.newPage();
}

/** An order of one item, paid with the simulator's card `token`; its id. */
async function placeOrder(paymentToken: string): Promise<string> {
  const sku = `CONSOLE-${randomUUID().slice(0, 8)}`;
  const stocked = await fetch(`${services.warehouse.url}/stock/${sku}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...asOperator() },
    body: JSON.stringify({ onHand: 5 }),
  });
  expect(stocked.ok).toBe(true);
  const placed = await fetch(`${services.order.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(merchant.apiKey) },
    body: JSON.stringify({
      customerId: 'customer-console',
      currency: 'EUR',
      items: [{ sku, quantity: 1, unitPrice: 1200 }],
      payment: { method: 'card', token: paymentToken },
      shippingAddress: {
        name: 'Ada Lovelace',
        line1: '12 St James Sq',
        city: 'London',
        postalCode: 'SW1Y',
        country: 'GB',
      },
    }),
  });
  expect(placed.status).toBe(202);
  return ((await placed.json()) as { orderId: string }).orderId;
}

const sagaOf = (orderId: string) =>
  getJson<{ state: string; version: number; history: { kind: string; detail: Record<string, unknown> }[] }>(
    `${services.saga.url}/sagas/${orderId}`,
    asOperator(),
  );
const sagaState = async (orderId: string) => (await sagaOf(orderId)).state;

/** Orders whose sagas park in ShipmentNeedsAttention (the carrier never reports, the delivery deadline expires). */
async function parkedOrders(count: number): Promise<string[]> {
  const orderIds = await Promise.all(Array.from({ length: count }, () => placeOrder('tok_ok')));
  await waitFor(
    async () => (await Promise.all(orderIds.map(sagaState))).every((state) => state === 'ShipmentNeedsAttention'),
    { timeoutMs: 45_000, intervalMs: 300, what: `${count} sagas to park in ShipmentNeedsAttention` },
  );
  return orderIds;
}

type AuditRecord = { operator: string; action: string; target: Record<string, unknown>; status: number };

/** A batch's records in a service's audit: its own row and one per item, written just after the answer. */
async function auditOfBatch(serviceUrl: string, batchId: string, expected: number): Promise<AuditRecord[]> {
  return waitFor(
    async () => {
      const records = await getJson<AuditRecord[]>(
        `${serviceUrl}/operator-actions?batch=${batchId}&limit=500`,
        asOperator(),
      );
      return records.length >= expected ? records : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 200, what: `the audit records of batch ${batchId}` },
  );
}

/** A dead letter in payment.commands.dlq that the payment service handles once replayed; its message id. */
async function paymentDeadLetter(error: string): Promise<string> {
  const orderId = randomUUID();
  const event = envelope(
    VoidPayment,
    orderId,
    { orderId, reason: 'console test' },
    { service: 'saga', correlationId: orderId },
  );
  const properties = amqpProperties(event, 'saga');
  properties.headers = {
    ...(properties.headers as Record<string, unknown>),
    'x-orderflow-dead-letter-reason': 'permanent-error',
    'x-orderflow-error': error,
    'x-orderflow-failed-at': new Date().toISOString(),
  };
  const channel = await admin.confirmChannel();
  channel.publish('orderflow.dead-letters', 'payment.commands', encode(event), properties);
  await channel.waitForConfirms();
  await channel.close();
  return event.id;
}

const post = (url: string, body: unknown, headers: Record<string, string> = asOperator()) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(consoleUrl());
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  await Promise.all([gateway.start(), carrier.start()]);
  all.forEach((s) => s.start());
  await Promise.all(all.map((s) => s.waitReady()));
  merchant = await createMerchant(services.order.url, 'Console');

  // The gateway simulator declines this card (402 card_declined).
  declinedOrderId = await placeOrder('tok_declined');
  await waitFor(
    async () => {
      const order = await getJson<{ status: string }>(
        `${services.order.url}/orders/${declinedOrderId}`,
        bearer(merchant.apiKey),
      );
      return order.status === 'CANCELLED' && (await sagaState(declinedOrderId)) === 'Final';
    },
    { timeoutMs: 45_000, intervalMs: 200, what: 'the declined order to be CANCELLED and its saga Final' },
  );

  admin = await connectAdminBroker('e2e@console');
  browser = await launchChromium();
}, 120_000);

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
  await admin?.close();
  await Promise.all(all.map((s) => s.stop().catch(() => s.kill())));
  await Promise.all([gateway.stop(), carrier.stop()]);
});

describe('the console page', () => {
  it('is served without a credential, under a strict Content-Security-Policy, while its API needs one', async () => {
    for (const path of ['/console', '/console/console.js', '/console/console.css']) {
      const res = await fetch(`${services.saga.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toContain("script-src 'self'");
      expect(res.headers.get('content-security-policy'), path).not.toContain('unsafe-');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    expect((await fetch(`${services.saga.url}/console`)).headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${services.saga.url}/console/api/dead-letters`)).status).toBe(401);
    expect((await fetch(`${services.saga.url}/sagas/counts`)).status).toBe(401);
  });
});

describe('signed in with the operator token', () => {
  it("counts the sagas by state and shows a declined order's timeline in the order it happened", async () => {
    const page = await newPage();
    await signIn(page, operatorToken());

    const final = page.locator('#state-counts [data-state="Final"] .count');
    expect(Number(await final.textContent())).toBeGreaterThanOrEqual(1);

    await page.getByLabel('Order id').fill(declinedOrderId);
    await page.getByRole('button', { name: 'Show timeline' }).click();
    const rows = page.locator('#timeline tbody tr');
    const cancelled = rows.filter({ hasText: 'fulfilment.order-status-changed.v1' }).filter({ hasText: 'CANCELLED' });
    await cancelled.waitFor();
    await page.locator('#saga-summary').getByText('Final', { exact: true }).waitFor();

    // Each row is time, kind, message type, from → to, detail: one cell each.
    const timeline = (await rows.allInnerTexts()).map((row) => {
      const [at, kind, type, states, detail] = row.split('\t').map((cell) => cell.trim());
      return { at, kind, type, states, detail };
    });
    const shown = timeline.map((r) => `${r.kind} ${r.type} ${r.states}`).join('\n');
    const placed = timeline.findIndex((r) => r.kind === 'event' && r.type === 'order.placed.v1');
    const declined = timeline.findIndex((r) => r.kind === 'event' && r.type === 'payment.declined.v1');
    const statusChange = timeline.findIndex(
      (r) => r.type === 'fulfilment.order-status-changed.v1' && r.detail.includes('"status":"CANCELLED"'),
    );
    expect(placed, shown).toBeGreaterThanOrEqual(0);
    expect(declined, shown).toBeGreaterThan(placed);
    expect(statusChange, shown).toBeGreaterThan(declined);
    expect(timeline[placed].states).toBe('Initial → AuthorizingAndReserving');
    expect(timeline[declined].states).toBe('AuthorizingAndReserving → ReleasingStockAfterDecline');
    expect(timeline.every((r) => r.at)).toBe(true);

    const screenshot = testArtifactPath('console.png');
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
  });

  it("lists every service's dead-letter queues with their depth, through the orchestrator", async () => {
    const page = await newPage();
    await signIn(page, operatorToken());
    await page.locator('#state-counts li').first().waitFor();
    await page.getByRole('button', { name: 'Dead letters' }).click();

    const table = page.locator('#dead-letter-queues');
    for (const service of Object.keys(services)) {
      const row = table.locator(`tbody tr[data-service="${service}"][data-queue]`).first();
      await row.waitFor();
      expect(await row.locator('td').first().textContent()).toBe(service);
      expect((await row.locator('td.depth').textContent())?.trim(), service).toMatch(/^\d+$/);
    }
  });
});

describe('an operator facing a parked saga', () => {
  it('sees why it stopped, is refused what its state does not offer, and resolves it with a note', async () => {
    const orderId = await placeOrder('tok_ok');
    await waitFor(async () => (await sagaState(orderId)) === 'ShipmentNeedsAttention', {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `the saga of ${orderId} to park in ShipmentNeedsAttention`,
    });

    const page = await newPage();
    await signIn(page, operatorToken());
    // The parked states stand out in the counts; this one louder, since a saga waits there.
    await page.locator('#state-counts button.parked.waiting[data-state="ShipmentNeedsAttention"]').waitFor();
    expect(await page.locator('#state-counts button.parked[data-state="NeedsAttention"]').count()).toBe(1);
    expect(await page.locator('#state-counts button.parked[data-state="Final"]').count()).toBe(0);

    await page.getByLabel('Order id').fill(orderId);
    await page.getByRole('button', { name: 'Show timeline' }).click();
    const attention = page.locator('#saga-attention');
    await attention.getByText('the carrier never reported the delivery', { exact: true }).waitFor();
    await attention.getByText('Needs attention (ShipmentNeedsAttention)').waitFor();
    await attention.getByText('stopped in AwaitingDelivery').waitFor();

    // The goods are with the carrier: nothing can be undone by the saga, and the orchestrator says so.
    const note = page.getByLabel('Note');
    const result = page.locator('#action-result');
    await note.fill('the customer asks to cancel');
    await page.getByRole('button', { name: 'Force compensation' }).click();
    await result.getByText('409 Conflict — compensate is not possible in state ShipmentNeedsAttention').waitFor();
    await page.locator('#saga-summary').getByText('ShipmentNeedsAttention', { exact: true }).waitFor();
    await page.screenshot({ path: testArtifactPath('console-parked.png'), fullPage: true });

    const why = `delivered, confirmed by phone; ticket ${randomUUID().slice(0, 8)}`;
    await note.fill(why);
    await page.getByRole('button', { name: 'Resolve' }).click();
    await result.getByText('Resolve: done, the saga is now Final.').waitFor();
    await page.locator('#saga-summary').getByText('Final', { exact: true }).waitFor();
    await attention.waitFor({ state: 'hidden' });
    // Only the action that happened is in the history: the refused one left no trace.
    const operatorRows = page.locator('#timeline tbody tr[data-kind="operator"]');
    await operatorRows.filter({ hasText: why }).filter({ hasText: 'operator.resolve.v1' }).waitFor();
    expect(await operatorRows.count()).toBe(1);
    expect(await note.inputValue()).toBe('');

    // The page showed what the orchestrator holds.
    expect(await sagaState(orderId)).toBe('Final');
  });
});

describe('with a wrong token', () => {
  it('shows why it was refused, and no data', async () => {
    const page = await newPage();
    await signIn(page, `not-an-operator-token-${randomUUID()}`);

    const alert = page.getByRole('alert');
    await alert.getByText('The token was refused').waitFor();
    expect(await alert.textContent()).toContain('401');
    expect(await page.locator('#content').isHidden()).toBe(true);
    expect(await page.locator('#state-counts li').count()).toBe(0);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });
});

describe('batch actions through the API', () => {
  it('acts on each saga in a batch of current, stale, finished and unknown ones, reports and records each', async () => {
    const [current, stale] = await parkedOrders(2);
    const finished = await sagaOf(declinedOrderId);
    const unknown = randomUUID();
    const staleSeen = (await sagaOf(stale)).version - 1;
    const note = `batch resolve ${randomUUID().slice(0, 8)}`;

    const res = await post(`${services.saga.url}/sagas/actions`, {
      action: 'resolve',
      note,
      sagas: [
        { orderId: current, version: (await sagaOf(current)).version },
        { orderId: stale, version: staleSeen },
        { orderId: declinedOrderId, version: finished.version },
        { orderId: unknown, version: 1 },
      ],
    });
    expect(res.status).toBe(200);
    const batch = (await res.json()) as {
      batchId: string;
      succeeded: number;
      skipped: number;
      failed: number;
      items: { orderId: string; outcome: string; status: number; state?: string }[];
    };
    expect(batch.items.map(({ orderId, outcome, status, state }) => ({ orderId, outcome, status, state }))).toEqual([
      { orderId: current, outcome: 'succeeded', status: 200, state: 'Final' },
      { orderId: stale, outcome: 'skipped', status: 409, state: 'ShipmentNeedsAttention' },
      { orderId: declinedOrderId, outcome: 'skipped', status: 409, state: undefined },
      { orderId: unknown, outcome: 'failed', status: 404, state: undefined },
    ]);
    expect(batch).toMatchObject({ succeeded: 1, skipped: 2, failed: 1 });

    // Only the current one was acted on; the stale one waits, untouched, for an operator who sees it as it is.
    expect(await sagaState(current)).toBe('Final');
    expect(await sagaState(stale)).toBe('ShipmentNeedsAttention');
    const history = (await sagaOf(current)).history.filter((h) => h.kind === 'operator');
    expect(history.map((h) => h.detail.note)).toEqual([note]);

    // One record per saga, tied to the batch, with its own outcome; and the batch's own row.
    const records = await auditOfBatch(services.saga.url, batch.batchId, 5);
    expect(records).toHaveLength(5);
    expect(records.every((r) => r.action === 'POST /sagas/actions' && /^token:[0-9a-f]{12}$/.test(r.operator))).toBe(
      true,
    );
    const byOrder = new Map(records.filter((r) => r.target.orderId).map((r) => [r.target.orderId, r]));
    expect([...byOrder.keys()].sort()).toEqual([current, stale, declinedOrderId, unknown].sort());
    expect(byOrder.get(current)).toMatchObject({
      status: 200,
      target: { outcome: 'succeeded', note, batch: batch.batchId },
    });
    expect(byOrder.get(stale)).toMatchObject({ status: 409, target: { outcome: 'skipped' } });
    expect(byOrder.get(unknown)).toMatchObject({ status: 404, target: { outcome: 'failed' } });
    expect(records.find((r) => !r.target.orderId)).toMatchObject({ status: 200, target: { items: 4 } });
  });

  it('refuses a batch to anyone but an operator, and a malformed one, with problem details', async () => {
    const [parked] = await parkedOrders(1);
    const seen = await sagaOf(parked);
    const batch = {
      action: 'resolve',
      note: 'not mine to resolve',
      sagas: [{ orderId: parked, version: seen.version }],
    };

    for (const headers of [bearer(merchant.apiKey), {}]) {
      const refused = await post(`${services.saga.url}/sagas/actions`, batch, headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
    }
    const replay = { messageIds: [randomUUID()], note: 'not mine' };
    const dlq = `${services.payment.url}/dead-letters/payment.commands/replay-batch`;
    expect((await post(dlq, replay, bearer(merchant.apiKey))).status).toBe(401);
    expect((await sagaOf(parked)).version).toBe(seen.version);

    const invalid = async (url: string, body: unknown) => {
      const res = await post(url, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      return ((await res.json()) as { errors?: { field: string }[] }).errors?.map((e) => e.field) ?? [];
    };
    const saga = { orderId: parked, version: seen.version };
    const batchUrl = `${services.saga.url}/sagas/actions`;
    expect(await invalid(batchUrl, { ...batch, note: '' })).toEqual(['note']);
    expect(await invalid(batchUrl, { ...batch, action: 'compensate' })).toEqual(['action']);
    expect(await invalid(batchUrl, { ...batch, sagas: [] })).toEqual(['sagas']);
    expect(await invalid(batchUrl, { ...batch, sagas: Array.from({ length: 101 }, () => saga) })).toEqual(['sagas']);
    expect(await invalid(batchUrl, { ...batch, sagas: [{ orderId: 'nope', version: 0 }] })).toEqual([
      'sagas.0.orderId',
      'sagas.0.version',
    ]);
    expect(await invalid(dlq, { ...replay, messageIds: [replay.messageIds[0], replay.messageIds[0]] })).toEqual([
      'messageIds',
    ]);
    expect(await invalid(dlq, { messageIds: replay.messageIds })).toEqual(['note']);
    expect(await sagaState(parked)).toBe('ShipmentNeedsAttention');
  });

  it('lists sagas by state, creation time, reason and order id, and refuses filters out of bounds', async () => {
    const before = new Date(Date.now() - 1_000).toISOString();
    const [parked] = await parkedOrders(1);
    const list = async (query: Record<string, string>) => {
      const res = await fetch(`${services.saga.url}/sagas?${new URLSearchParams(query)}`, { headers: asOperator() });
      return { status: res.status, body: (await res.json()) as { items?: { correlationId: string }[] } };
    };
    const ids = async (query: Record<string, string>) => (await list(query)).body.items?.map((s) => s.correlationId);
    const state = 'ShipmentNeedsAttention';
    expect(await ids({ state, since: before, reason: 'CARRIER never', orderId: parked.slice(0, 8) })).toEqual([parked]);
    expect(await ids({ orderId: parked })).toEqual([parked]);
    expect(await ids({ state, orderId: parked, reason: 'payment was not voided' })).toEqual([]);
    expect(await ids({ orderId: parked, until: before })).toEqual([]);
    expect(await ids({ state: 'Final', orderId: parked })).toEqual([]);

    const refused: Record<string, string>[] = [
      { since: 'yesterday' },
      { since: before, until: before },
      { orderId: 'xyz' },
      { orderId: 'abc' },
      { reason: 'x' },
      { state: 'Nowhere' },
      { limit: '501' },
    ];
    for (const query of refused) {
      expect((await list(query)).status, JSON.stringify(query)).toBe(400);
    }
  });

  it('replays a batch of dead letters, each reported and recorded; one no longer there is skipped', async () => {
    const error = `PermanentError: console batch ${randomUUID().slice(0, 8)}`;
    const ids = [await paymentDeadLetter(error), await paymentDeadLetter(error)];
    const gone = randomUUID();
    const listed = await getJson<{ messageId: string }[]>(
      `${services.saga.url}/console/api/dead-letters/payment/payment.commands?${new URLSearchParams({ reason: error.slice(16) })}`,
      asOperator(),
    );
    expect(listed.map((l) => l.messageId).sort()).toEqual([...ids].sort());

    const res = await post(`${services.saga.url}/console/api/dead-letters/payment/payment.commands/replay-batch`, {
      messageIds: [...ids, gone],
      note: 'fixed the SKU table',
    });
    expect(res.status).toBe(200);
    const batch = (await res.json()) as { batchId: string; items: { messageId: string; outcome: string }[] };
    expect(batch.items.map((i) => [i.messageId, i.outcome])).toEqual([
      [ids[0], 'succeeded'],
      [ids[1], 'succeeded'],
      [gone, 'skipped'],
    ]);
    const records = await auditOfBatch(services.payment.url, batch.batchId, 4);
    expect(
      records
        .filter((r) => r.target.messageId)
        .map((r) => [r.target.messageId, r.target.outcome, r.status, r.target.note])
        .sort(),
    ).toEqual(
      [
        [ids[0], 'succeeded', 200, 'fixed the SKU table'],
        [ids[1], 'succeeded', 200, 'fixed the SKU table'],
        [gone, 'skipped', 409, 'fixed the SKU table'],
      ].sort(),
    );
    const after = await getJson<unknown[]>(
      `${services.payment.url}/dead-letters/payment.commands?${new URLSearchParams({ reason: error.slice(16) })}`,
      asOperator(),
    );
    expect(after).toEqual([]);
  });
});

describe('an operator at daily work in the console', () => {
  it('filters, searches by order id, resolves a batch with a note and sees each outcome and its record', async () => {
    const [first, second] = await parkedOrders(2);
    const page = await newPage();
    await signIn(page, operatorToken());
    await page.locator('#state-counts li').first().waitFor();

    // Search by the start of one order's id, among the parked ones with the carrier's reason.
    await page.getByLabel('State', { exact: true }).selectOption('ShipmentNeedsAttention');
    await page.getByLabel('Reason contains').fill('carrier never reported');
    await page.getByLabel('Search orders by id').fill(first.slice(0, 13));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = page.locator('#state-sagas tbody tr[data-order-id]');
    await page.locator(`#state-sagas tbody tr[data-order-id="${first}"]`).waitFor();
    await waitFor(async () => (await rows.count()) === 1, { timeoutMs: 5_000, what: 'one saga listed' });
    expect(await rows.first().locator('td.reason').textContent()).toContain('the carrier never reported the delivery');

    // All parked ones, then both selected; the second changes (resolved elsewhere) before the batch runs.
    await page.getByLabel('Search orders by id').fill('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    for (const orderId of [first, second]) await page.getByLabel(`Select ${orderId}`).check();
    const seen = await sagaOf(second);
    const elsewhere = await post(`${services.saga.url}/sagas/${second}/resolve`, { note: 'resolved by a colleague' });
    expect(elsewhere.status).toBe(200);

    const why = `carrier confirmed by phone ${randomUUID().slice(0, 8)}`;
    await page.getByRole('button', { name: 'Resolve selected' }).click();
    await page.locator('#batch-result').getByText('Say why first', { exact: false }).waitFor();
    await page.getByLabel("Why (required, kept with each saga's action)").fill(why);
    await page.getByRole('button', { name: 'Resolve selected' }).click();
    await page.locator('#batch-result').getByText('Resolve: 1 succeeded, 1 skipped, 0 failed.').waitFor();
    const outcomes = page.locator('#batch-outcomes tbody');
    await outcomes.locator(`tr[data-id="${first}"][data-outcome="succeeded"]`).waitFor();
    await outcomes
      .locator(`tr[data-id="${second}"][data-outcome="skipped"]`)
      .getByText('skipped: state changed')
      .waitFor();

    // The audit as recorded: the batch, and one record per saga with its outcome and the note.
    const audit = page.locator('#batch-audit tbody tr');
    await audit.nth(2).waitFor();
    expect(await audit.count()).toBe(3);
    expect(await audit.filter({ hasText: first }).filter({ hasText: why }).count()).toBe(1);
    expect(
      await page.locator(`#batch-audit tbody tr[data-outcome="succeeded"]`).filter({ hasText: first }).count(),
    ).toBe(1);
    expect(
      await page.locator(`#batch-audit tbody tr[data-outcome="skipped"]`).filter({ hasText: second }).count(),
    ).toBe(1);
    await page.screenshot({ path: testArtifactPath('console-batch.png'), fullPage: true });

    // What the orchestrator holds: the first resolved with this note, the second by the colleague only.
    const firstSaga = await sagaOf(first);
    expect(firstSaga.state).toBe('Final');
    expect(firstSaga.history.filter((h) => h.kind === 'operator').map((h) => h.detail.note)).toEqual([why]);
    const secondSaga = await sagaOf(second);
    expect(secondSaga.version).toBe(seen.version + 1);
    expect(secondSaga.history.filter((h) => h.kind === 'operator').map((h) => h.detail.note)).toEqual([
      'resolved by a colleague',
    ]);
  });

  it('filters dead letters by queue and reason, replays the selected ones with a note, and sees each outcome', async () => {
    const error = `PermanentError: console page ${randomUUID().slice(0, 8)}`;
    const ids = [await paymentDeadLetter(error), await paymentDeadLetter(error)];
    const page = await newPage();
    await signIn(page, operatorToken());
    await page.locator('#state-counts li').first().waitFor();
    await page.getByRole('button', { name: 'Dead letters' }).click();

    const queues = page.locator('#dead-letter-queues tbody tr[data-queue]:visible');
    await page.locator('#dead-letter-queues tbody tr[data-queue="payment.commands"]').waitFor();
    await page.getByLabel('Queue contains').fill('payment.comm');
    await waitFor(async () => (await queues.count()) === 1, {
      timeoutMs: 5_000,
      what: 'only payment.commands shown',
    });
    await page
      .locator('#dead-letter-queues tbody tr[data-queue="payment.commands"]')
      .getByRole('button', { name: 'Show' })
      .click();

    await page.getByLabel('Reason or error contains').fill(error.slice(16));
    await page.getByLabel('Failed from').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Filter dead letters' }).click();
    const letters = page.locator('#dead-letter-list tbody tr[data-message-id]');
    await page.locator(`#dead-letter-list tbody tr[data-message-id="${ids[1]}"]`).waitFor();
    expect((await letters.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.messageId))).sort()).toEqual(
      [...ids].sort(),
    );

    await page.getByLabel('Select all listed dead letters').check();
    await page.getByLabel('Why (required, kept with each replay)').fill('the SKU table is fixed');
    await page.getByRole('button', { name: 'Replay selected' }).click();
    await page.locator('#dead-letter-result').getByText('Replay: 2 succeeded, 0 skipped, 0 failed.').waitFor();
    for (const id of ids)
      await page.locator(`#replay-outcomes tr[data-id="${id}"][data-outcome="succeeded"]`).waitFor();
    const audit = page.locator('#replay-audit tbody tr');
    await audit.nth(2).waitFor();
    expect(await audit.count()).toBe(3);
    for (const id of ids) {
      expect(await audit.filter({ hasText: id }).filter({ hasText: 'the SKU table is fixed' }).count()).toBe(1);
    }
    // The list, filtered as before, is empty now.
    await page.locator('#dead-letter-list tbody').getByText('None', { exact: true }).waitFor();
  });

  it('refreshes by itself at the chosen interval, and not while the tab is hidden', async () => {
    const page = await newPage();
    await signIn(page, operatorToken());
    await page.locator('#state-counts li').first().waitFor();
    const counted: number[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/sagas/counts')) counted.push(Date.now());
    });

    await page.getByLabel('every').selectOption('10');
    await page.getByLabel('Auto-refresh').check();
    await page.locator('#refresh-status').getByText('refreshed', { exact: false }).waitFor({ timeout: 15_000 });
    expect(counted.length).toBe(1);

    // Hidden: the timer stops; nothing is asked until the tab is back, and then once.
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.locator('#refresh-status').getByText('paused while the tab is hidden').waitFor();
    const hiddenAt = counted.length;
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(counted.length).toBe(hiddenAt);
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await waitFor(() => counted.length === hiddenAt + 1, { timeoutMs: 5_000, what: 'one refresh on return' });
  });
});
