// Access control through REST against the five services as real processes (OWASP API Security Top 10, 2023):
// broken authentication (API2), broken object-level authorisation (API1), unrestricted resource consumption (API4),
// and broken function-level authorisation (API5). docs/security.md maps each item here.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { SERVICE_NAMES } from '@orderflow/platform';
import {
  asOperator,
  bearer,
  createMerchant,
  freePort,
  recordIssuedSecret,
  ServiceProcess,
  type TestMerchant,
} from '@orderflow/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const services = Object.fromEntries(SERVICE_NAMES.map((name) => [name, new ServiceProcess(name)])) as Record<
  (typeof SERVICE_NAMES)[number],
  ServiceProcess
>;
const order = services.order;
let merchantA: TestMerchant;
let merchantB: TestMerchant;

function orderBody() {
  return {
    customerId: `customer-${randomUUID().slice(0, 8)}`,
    currency: 'EUR',
    items: [{ sku: 'SKU-CHAIR-01', quantity: 1, unitPrice: 4999 }],
    payment: { method: 'card', token: 'tok_ok' },
    shippingAddress: {
      name: 'Ada Lovelace',
      line1: '12 St James’s Square',
      city: 'London',
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    },
  };
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { res, status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

async function placeAs(merchant: TestMerchant, headers: Record<string, string> = {}, body = orderBody()) {
  const placed = await call(`${order.url}/orders`, {
    method: 'POST',
    headers: { ...bearer(merchant.apiKey), ...headers },
    body,
  });
  expect(placed.status).toBe(202);
  return placed.body.orderId as string;
}

beforeAll(async () => {
  Object.values(services).forEach((service) => service.start());
  await Promise.all(Object.values(services).map((service) => service.waitReady()));
  [merchantA, merchantB] = await Promise.all([
    createMerchant(order.url, 'Merchant A'),
    createMerchant(order.url, 'Merchant B'),
  ]);
});

afterAll(async () => {
  await Promise.all(Object.values(services).map((service) => service.stop().catch(() => service.kill())));
});

describe('authentication (API2)', () => {
  it('answers a missing, malformed, wrong or unknown credential with the same 401 and a WWW-Authenticate challenge', async () => {
    const wrongSecret = merchantA.apiKey.slice(0, -4) + (merchantA.apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
      bearer('not-a-key'),
      bearer(wrongSecret),
      bearer(`ofk_${'0'.repeat(16)}_${'A'.repeat(43)}`),
    ];
    const answers = [];
    for (const headers of attempts) {
      const { res, status, body } = await call(`${order.url}/orders`, { headers });
      expect(status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="orderflow"');
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      answers.push(body);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  it('lets a rotated key in and keeps a revoked key out, at once', async () => {
    const merchant = await createMerchant(order.url, 'Rotating merchant');
    const added = await call(`${order.url}/merchants/${merchant.merchantId}/api-keys`, {
      method: 'POST',
      headers: asOperator(),
    });
    expect(added.status).toBe(201);
    const newKey = added.body.apiKey as string;
    recordIssuedSecret(newKey);
    // Both keys work during the rotation: no gap.
    for (const key of [merchant.apiKey, newKey]) {
      expect((await call(`${order.url}/orders`, { headers: bearer(key) })).status).toBe(200);
    }
    const oldKeyId = /^ofk_([0-9a-f]{16})_/.exec(merchant.apiKey)![1];
    const revoked = await call(`${order.url}/merchants/${merchant.merchantId}/api-keys/${oldKeyId}`, {
      method: 'DELETE',
      headers: asOperator(),
    });
    expect(revoked.status).toBe(204);
    expect((await call(`${order.url}/orders`, { headers: bearer(merchant.apiKey) })).status).toBe(401);
    expect((await call(`${order.url}/orders`, { headers: bearer(newKey) })).status).toBe(200);
    const shown = await call(`${order.url}/merchants/${merchant.merchantId}`, { headers: asOperator() });
    expect((shown.body.apiKeys as { keyId: string }[]).map((k) => k.keyId)).toEqual([added.body.keyId]);
    expect(JSON.stringify(shown.body)).not.toContain(newKey);
  });

  it('rotates webhook secrets without a gap and never removes the last one', async () => {
    const merchant = await createMerchant(order.url, 'Webhook rotation');
    const first = (await call(`${order.url}/merchants/${merchant.merchantId}`, { headers: asOperator() })).body
      .webhookSecrets as { secretId: string }[];
    expect(first).toHaveLength(1);
    const last = await call(`${order.url}/merchants/${merchant.merchantId}/webhook-secrets/${first[0].secretId}`, {
      method: 'DELETE',
      headers: asOperator(),
    });
    expect(last.status).toBe(409);
    const added = await call(`${order.url}/merchants/${merchant.merchantId}/webhook-secrets`, {
      method: 'POST',
      headers: asOperator(),
    });
    expect(added.status).toBe(201);
    recordIssuedSecret(added.body.webhookSecret as string);
    expect(added.body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const removed = await call(`${order.url}/merchants/${merchant.merchantId}/webhook-secrets/${first[0].secretId}`, {
      method: 'DELETE',
      headers: asOperator(),
    });
    expect(removed.status).toBe(204);
    const after = await call(`${order.url}/merchants/${merchant.merchantId}`, { headers: asOperator() });
    expect((after.body.webhookSecrets as { secretId: string }[]).map((k) => k.secretId)).toEqual([added.body.secretId]);
  });

  it('does not let an operator place orders: orders belong to merchants', async () => {
    const placed = await call(`${order.url}/orders`, { method: 'POST', headers: asOperator(), body: orderBody() });
    expect(placed.status).toBe(403);
  });
});

describe('object-level authorisation (API1)', () => {
  it('hides one merchant’s order from another: read and cancel answer 404, as for an order that does not exist', async () => {
    const orderOfB = await placeAs(merchantB);
    const read = await call(`${order.url}/orders/${orderOfB}`, { headers: bearer(merchantA.apiKey) });
    const missing = await call(`${order.url}/orders/${randomUUID()}`, { headers: bearer(merchantA.apiKey) });
    expect(read.status).toBe(404);
    expect({ ...read.body, instance: undefined }).toEqual({ ...missing.body, instance: undefined });
    const cancel = await call(`${order.url}/orders/${orderOfB}/cancel`, {
      method: 'POST',
      headers: bearer(merchantA.apiKey),
    });
    expect(cancel.status).toBe(404);
    // B still sees its order, untouched by A's attempt; an operator sees it too.
    const own = await call(`${order.url}/orders/${orderOfB}`, { headers: bearer(merchantB.apiKey) });
    expect(own.status).toBe(200);
    expect(own.body.cancellationRequestedAt).toBeUndefined();
    expect((await call(`${order.url}/orders/${orderOfB}`, { headers: asOperator() })).status).toBe(200);
  });

  it('lists only the caller’s own orders', async () => {
    const ofA = await placeAs(merchantA);
    const ofB = await placeAs(merchantB);
    const listed = async (key: string) =>
      (
        (await call(`${order.url}/orders?limit=100`, { headers: bearer(key) })).body.orders as { orderId: string }[]
      ).map((o) => o.orderId);
    const seenByA = await listed(merchantA.apiKey);
    expect(seenByA).toContain(ofA);
    expect(seenByA).not.toContain(ofB);
    const seenByB = await listed(merchantB.apiKey);
    expect(seenByB).toContain(ofB);
    expect(seenByB).not.toContain(ofA);
  });

  it('scopes Idempotency-Keys per merchant: the same key from two merchants places two orders', async () => {
    const key = `shared-${randomUUID()}`;
    const body = orderBody();
    const ofA = await placeAs(merchantA, { 'idempotency-key': key }, body);
    const ofB = await placeAs(merchantB, { 'idempotency-key': key }, body);
    expect(ofA).not.toBe(ofB);
    // Within one merchant the key still replays.
    expect(await placeAs(merchantA, { 'idempotency-key': key }, body)).toBe(ofA);
  });
});

describe('function-level authorisation (API5)', () => {
  // Every documented endpoint of every service, from its own OpenAPI document: a new endpoint is covered the day it
  // is added. Only health and the merchant API accept a merchant key.
  it('refuses a merchant key on every operator endpoint of every service, and accepts the operator token', async () => {
    const checked: string[] = [];
    for (const service of Object.values(services)) {
      const doc = (await call(`${service.url}/docs/openapi.json`)).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      for (const [path, operations] of Object.entries(doc.paths)) {
        if (path.startsWith('/health') || path.startsWith('/orders')) continue;
        const url = `${service.url}${path.replace(/\{[^}]+\}/g, randomUUID())}`;
        for (const method of Object.keys(operations)) {
          const asMerchant = await call(url, { method: method.toUpperCase(), headers: bearer(merchantA.apiKey) });
          expect(asMerchant.status, `${service.service} ${method} ${path}`).toBe(401);
          checked.push(`${service.service} ${method.toUpperCase()} ${path}`);
          // Signed webhooks take no bearer credential at all; every other endpoint lets the operator past the guard.
          if (path.startsWith('/gateway') || path.startsWith('/carrier')) continue;
          const asOperatorCall = await call(url, { method: method.toUpperCase(), headers: asOperator() });
          expect(asOperatorCall.status, `${service.service} ${method} ${path} as operator`).not.toBe(401);
        }
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'order POST /merchants',
        'order DELETE /merchants/{id}/api-keys/{keyId}',
        'warehouse PUT /stock/{sku}',
        'payment GET /payments',
        'payment POST /gateway/webhooks',
        'logistics POST /shipments/{id}/delivered',
        'logistics POST /carrier/deliveries',
        'saga GET /sagas',
        'saga POST /dead-letters/{queue}/replay',
      ]),
    );
  });

  it('keeps health, readiness and metrics open to the cluster', async () => {
    for (const service of Object.values(services)) {
      for (const path of ['/health/live', '/health/ready', '/metrics']) {
        expect((await fetch(`${service.url}${path}`)).status, `${service.service} ${path}`).toBe(200);
      }
    }
  });
});

describe('rate limits (API4)', () => {
  let limited: ServiceProcess;

  beforeAll(async () => {
    limited = new ServiceProcess('order', {
      PORT: String(await freePort()),
      RATE_LIMIT_REQUESTS: '5',
      RATE_LIMIT_WINDOW_MS: '60000',
    });
    await limited.start().waitReady();
  });

  afterAll(async () => {
    await limited.stop();
  });

  it('answers 429 with Retry-After once a key has used its requests, and counts each key on its own', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      statuses.push((await call(`${limited.url}/orders`, { headers: bearer(merchantA.apiKey) })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await call(`${limited.url}/orders`, { headers: bearer(merchantA.apiKey) });
    expect(refused.status).toBe(429);
    expect(Number(refused.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.res.headers.get('content-type')).toContain('application/problem+json');
    expect((await call(`${limited.url}/orders`, { headers: bearer(merchantB.apiKey) })).status).toBe(200);
  });

  it('throttles guessing: requests without a valid credential count against the caller’s address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      statuses.push((await call(`${limited.url}/orders`, { headers: bearer(`guess-${i}`) })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('does not throttle health probes', async () => {
    for (let i = 0; i < 10; i += 1) expect((await fetch(`${limited.url}/health/live`)).status).toBe(200);
  });
});

describe('operators from an OIDC issuer', () => {
  let issuer: Server;
  let issuerUrl: string;
  let payment: ServiceProcess;
  const keys = generateKeyPair('ES256');
  const ORDER_ID = randomUUID();

  const jwt = async (claims: { aud?: string; exp?: string; iss?: string; roles?: unknown } = {}) =>
    new SignJWT('roles' in claims ? { roles: claims.roles } : { roles: ['reader', 'orderflow-operator'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setSubject('operator@example.test')
      .setIssuer(claims.iss ?? issuerUrl)
      .setAudience(claims.aud ?? 'orderflow')
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '5m')
      .sign((await keys).privateKey);

  beforeAll(async () => {
    const jwk = { ...(await exportJWK((await keys).publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
    // A real HTTP issuer: OpenID discovery and a JWKS, as an identity provider publishes them.
    issuer = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer: issuerUrl, jwks_uri: `${issuerUrl}/jwks` }));
      } else if (req.url === '/jwks') {
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    const port = await freePort();
    await new Promise<void>((resolve) => issuer.listen(port, '127.0.0.1', resolve));
    issuerUrl = `http://127.0.0.1:${port}`;
    payment = new ServiceProcess('payment', {
      PORT: String(await freePort()),
      OIDC_ISSUER: issuerUrl,
      OIDC_AUDIENCE: 'orderflow',
    });
    await payment.start().waitReady();
  });

  afterAll(async () => {
    await payment.stop();
    await new Promise((resolve) => issuer.close(resolve));
  });

  it('trusts no key of an issuer whose discovery document names another issuer', async () => {
    // The same issuer, reached by another name: its discovery document names 127.0.0.1, not localhost.
    const misnamed = new ServiceProcess('payment', {
      PORT: String(await freePort()),
      OIDC_ISSUER: issuerUrl.replace('127.0.0.1', 'localhost'),
      OIDC_AUDIENCE: 'orderflow',
    });
    await misnamed.start().waitReady();
    try {
      const token = await jwt({ iss: issuerUrl.replace('127.0.0.1', 'localhost') });
      expect((await call(`${misnamed.url}/payments?orderId=${ORDER_ID}`, { headers: bearer(token) })).status).toBe(401);
    } finally {
      await misnamed.stop();
    }
  });

  it('accepts a JWT the issuer signed for orderflow, and refuses expired, foreign-audience and unsigned ones', async () => {
    expect((await call(`${payment.url}/payments?orderId=${ORDER_ID}`, { headers: bearer(await jwt()) })).status).toBe(
      200,
    );
    expect(
      (
        await call(`${payment.url}/payments?orderId=${ORDER_ID}`, {
          headers: bearer(await jwt({ aud: 'another-api' })),
        })
      ).status,
    ).toBe(401);
    expect(
      (await call(`${payment.url}/payments?orderId=${ORDER_ID}`, { headers: bearer(await jwt({ exp: '-5m' })) }))
        .status,
    ).toBe(401);
    expect(
      (
        await call(`${payment.url}/payments?orderId=${ORDER_ID}`, {
          headers: bearer(await jwt({ iss: 'https://elsewhere.test' })),
        })
      ).status,
    ).toBe(401);
    const [header, payload] = (await jwt()).split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    expect((await call(`${payment.url}/payments?orderId=${ORDER_ID}`, { headers: bearer(unsigned) })).status).toBe(401);
    expect(
      (await call(`${payment.url}/payments?orderId=${ORDER_ID}`, { headers: bearer(`${header}.${payload}.forged`) }))
        .status,
    ).toBe(401);
    // Signed for orderflow but not an operator's: no role, another role, the role in another claim.
    for (const roles of [undefined, ['reader'], 'orderflow-operators', { 'orderflow-operator': true }]) {
      expect(
        (await call(`${payment.url}/payments?orderId=${ORDER_ID}`, { headers: bearer(await jwt({ roles })) })).status,
        JSON.stringify(roles),
      ).toBe(401);
    }
    expect(
      (
        await call(`${payment.url}/payments?orderId=${ORDER_ID}`, {
          headers: bearer(await jwt({ roles: 'orderflow-operator' })),
        })
      ).status,
    ).toBe(200);
    // The static operator token keeps working beside the issuer.
    expect((await call(`${payment.url}/payments?orderId=${ORDER_ID}`, { headers: asOperator() })).status).toBe(200);
  });
});
