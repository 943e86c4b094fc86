// The operator console as an operator uses it, in a real headless browser: the five services and the payment
// gateway's simulator as real processes, an order whose card is declined, and then the console served by the saga
// orchestrator — signed in with the operator token, it counts the sagas by state, shows the order's timeline in the
// order things happened, and lists every service's dead-letter queues through the orchestrator; a wrong token shows
// an error and no data. With the delivery deadline compressed to 3 s (SAGA_DEADLINES) and a carrier that reports
// deliveries only through its test hook, an order parks in ShipmentNeedsAttention: the operator sees why, is refused
// what that state does not offer, and resolves it with a note.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  asOperator,
  bearer,
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

const sagaState = async (orderId: string) =>
  (await getJson<{ state: string }>(`${services.saga.url}/sagas/${orderId}`, asOperator())).state;

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

  browser = await launchChromium();
}, 120_000);

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
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
    expect(timeline[placed].states).toBe('Initial → AwaitingPayment');
    expect(timeline[declined].states).toMatch(/^AwaitingPayment → /);
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
