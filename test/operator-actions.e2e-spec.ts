// Every operator action recorded with who, what and when: on each service, whatever the action — stock set, a
// notification policy changed, a merchant's key revoked, a saga retried, dead letters replayed — and refused ones too,
// with the operator named by the fingerprint of their token, never by the token. Reads are not actions.
import { randomUUID } from 'node:crypto';
import { asOperator, createMerchant, operatorToken, ServiceProcess } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const order = new ServiceProcess('order');
const warehouse = new ServiceProcess('warehouse');
const saga = new ServiceProcess('saga');

type Action = { at: string; operator: string; action: string; target: Record<string, unknown>; status: number };

async function as(service: ServiceProcess, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...asOperator() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.status;
}

async function actionsOf(service: ServiceProcess): Promise<Action[]> {
  const res = await fetch(`${service.url}/operator-actions?limit=500`, { headers: asOperator() });
  expect(res.status).toBe(200);
  return (await res.json()) as Action[];
}

/** Records are written once the answer is sent: a moment later. */
async function recorded(service: ServiceProcess, match: (a: Action) => boolean): Promise<Action> {
  for (let i = 0; i < 50; i += 1) {
    const found = (await actionsOf(service)).find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no such operator action recorded');
}

beforeAll(async () => {
  await Promise.all([order.start().waitReady(), warehouse.start().waitReady(), saga.start().waitReady()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([order.stop(), warehouse.stop(), saga.stop()]);
});

describe('operator actions', () => {
  it('are recorded on every service with who, what, on what, when and how it ended', async () => {
    const started = Date.now();
    const sku = `SKU-AUDIT-${randomUUID().slice(0, 8)}`;
    expect(await as(warehouse, 'PUT', `/stock/${sku}`, { onHand: 7 })).toBe(200);
    const merchant = await createMerchant(order.url, 'Audited merchant');
    expect(
      await as(order, 'PUT', `/merchants/${merchant.merchantId}/notification-policy`, {
        default: { strategy: 'intervals', intervals: ['1m'] },
      }),
    ).toBeLessThan(300);
    const unknownSaga = randomUUID();
    expect(await as(saga, 'POST', `/sagas/${unknownSaga}/retry`, { note: 'audit test' })).toBe(404);
    expect(await as(saga, 'POST', '/dead-letters/saga.events/replay', { limit: 1 })).toBeLessThan(300);

    const fingerprint = /^token:[0-9a-f]{12}$/;
    const stock = await recorded(warehouse, (a) => a.target.sku === sku);
    expect(stock).toMatchObject({ action: 'PUT /stock/:sku', status: 200 });
    expect(stock.operator).toMatch(fingerprint);
    expect(Date.parse(stock.at)).toBeGreaterThanOrEqual(started - 1_000);

    const policy = await recorded(order, (a) => a.target.id === merchant.merchantId && a.action.includes('policy'));
    expect(policy.action).toBe('PUT /merchants/:id/notification-policy');
    expect(await recorded(order, (a) => a.action === 'POST /merchants')).toMatchObject({ status: 201 });

    // Refused actions are actions too.
    expect(await recorded(saga, (a) => a.target.orderId === unknownSaga)).toMatchObject({
      action: 'POST /sagas/:orderId/retry',
      status: 404,
    });
    expect(await recorded(saga, (a) => a.action === 'POST /dead-letters/:queue/replay')).toMatchObject({
      target: { queue: 'saga.events' },
    });

    // Reads are not recorded, and no record holds the credential.
    const all = [...(await actionsOf(order)), ...(await actionsOf(warehouse)), ...(await actionsOf(saga))];
    expect(all.some((a) => a.action.startsWith('GET '))).toBe(false);
    expect(JSON.stringify(all)).not.toContain(operatorToken());
  });

  it('are listed to operators only', async () => {
    const merchant = await createMerchant(order.url, 'Nosy merchant');
    const res = await fetch(`${order.url}/operator-actions`, {
      headers: { authorization: `Bearer ${merchant.apiKey}` },
    });
    expect(res.status).toBe(401); // a merchant's key is no credential on an operator route
  });
});
