// Security headers on what the services answer (OWASP API8): helmet's set and `Cache-Control: no-store` on every API
// answer — the secret-bearing ones above all — while Swagger UI at /docs still renders in a real browser under the
// content security policy, and the operator console keeps its own stricter one.
import { asOperator, createMerchant, launchChromium, ServiceProcess } from '@orderflow/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const order = new ServiceProcess('order');
const saga = new ServiceProcess('saga');
let browser: Browser;

function expectSecurityHeaders(headers: Headers): void {
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(headers.get('x-powered-by')).toBeNull();
}

beforeAll(async () => {
  await Promise.all([order.start().waitReady(), saga.start().waitReady()]);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([order.stop(), saga.stop()]);
});

describe('every answer', () => {
  it('carries the security headers and is never cached, a public one too', async () => {
    const res = await fetch(`${order.url}/health/live`);
    expect(res.status).toBe(200);
    expectSecurityHeaders(res.headers);
    expect(res.headers.get('cache-control')).toContain('no-store');
  });

  it('that carries a secret is never cached: a new merchant and its API key', async () => {
    const res = await fetch(`${order.url}/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asOperator() },
      body: JSON.stringify({ name: 'Header merchant' }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { apiKey?: string }).apiKey).toBeTruthy();
    expectSecurityHeaders(res.headers);
    expect(res.headers.get('cache-control')).toContain('no-store');
  });

  it('refused carries them as well', async () => {
    const merchant = await createMerchant(order.url, 'Refused merchant');
    const res = await fetch(`${order.url}/orders/not-a-uuid`, {
      headers: { authorization: `Bearer ${merchant.apiKey}` },
    });
    expect(res.status).toBe(400);
    expectSecurityHeaders(res.headers);
    expect(res.headers.get('cache-control')).toContain('no-store');
  });
});

describe('the pages', () => {
  it('Swagger UI at /docs renders under the policy, with no violation reported', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) violations.push(message.text());
    });
    const answer = await page.goto(`${order.url}/docs`);
    expectSecurityHeaders(new Headers(answer!.headers()));
    await page.locator('.swagger-ui .info .title').waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(5);
    // Named after its service, so that five open tabs can be told apart.
    expect(await page.title()).toMatch(/^orderflow order service/i);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('the operator console keeps its own stricter policy', async () => {
    const res = await fetch(`${saga.url}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });
});
