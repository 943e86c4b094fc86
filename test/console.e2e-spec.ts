// The operator console as an operator uses it, in a real headless browser: the five services and the payment
// gateway's simulator as real processes, an order whose card is declined, and then the console served by the saga
// orchestrator — signed in with the operator token, it counts the sagas by state, shows the order's timeline in the
// order things happened, and lists every service's dead-letter queues through the orchestrator; a wrong token shows
// an error and no data.
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
const quick = { RETRY_MAX_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '100', RATE_LIMIT_REQUESTS: '1000000' };
const services = {
  order: new ServiceProcess('order', quick),
  payment: new ServiceProcess('payment', { ...quick, PAYMENT_GATEWAY_URL: gateway.url }),
  warehouse: new ServiceProcess('warehouse', quick),
  logistics: new ServiceProcess('logistics', quick),
  saga: new ServiceProcess('saga', quick),
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

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(consoleUrl());
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  await gateway.start();
  all.forEach((s) => s.start());
  await Promise.all(all.map((s) => s.waitReady()));
  merchant = await createMerchant(services.order.url, 'Console');

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
      // The gateway simulator declines this card (402 card_declined).
      payment: { method: 'card', token: 'tok_declined' },
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
  declinedOrderId = ((await placed.json()) as { orderId: string }).orderId;
  await waitFor(
    async () => {
      const order = await getJson<{ status: string }>(
        `${services.order.url}/orders/${declinedOrderId}`,
        bearer(merchant.apiKey),
      );
      const saga = await getJson<{ state: string }>(`${services.saga.url}/sagas/${declinedOrderId}`, asOperator());
      return order.status === 'CANCELLED' && saga.state === 'Final';
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
  await gateway.stop();
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
