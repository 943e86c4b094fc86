// The payment service against the real process, its database, the broker and the payment gateway simulator: every
// test token, re-sent and redelivered commands, compensation, late results, and the REST reads. Each test asserts
// the net effect at the gateway (its GET endpoints): money held or kept only when expected, exactly once.
// Needs the simulator built: npx nest build payment-gateway-simulator. The REST reads are an operator's (operator
// token); the test's own webhook calls are signed like the gateway's.
import { randomUUID } from 'node:crypto';
import {
  AuthorizePayment,
  CapturePayment,
  type MessageType,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentRefunded,
  PaymentVoided,
  RefundPayment,
  VoidPayment,
} from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope } from '@orderflow/messaging';
import {
  asOperator,
  EventTap,
  ServiceProcess,
  signedWebhookHeaders,
  SimulatorProcess,
  type TappedEvent,
  testEnvironment,
  waitFor,
  webhookSecret,
  connectBrokerAs,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SLOW_DELAY_MS = 3_000;
const ASYNC_DELAY_MS = 500;

// The simulators' ports sit beside the services' (scripts/lib/common.sh): 3110 in the test profile.
const gateway = new SimulatorProcess('payment-gateway', testEnvironment.httpPort('order') + 10, {
  SLOW_DELAY_MS: String(SLOW_DELAY_MS),
  ASYNC_DELAY_MS: String(ASYNC_DELAY_MS),
  RETRY_AFTER_MS: '200',
});
const service = new ServiceProcess('payment', {
  PAYMENT_GATEWAY_URL: gateway.url,
  PAYMENT_GATEWAY_TIMEOUT_MS: '500',
  RETRY_MAX_ATTEMPTS: '3',
  RETRY_BASE_DELAY_MS: '100',
});
/** The saga's broker user: what the saga sends, only it may (ADR 0016). */
let admin: BrokerConnection;
let tap: EventTap;

interface GatewayAuthorization {
  authorizationId: string;
  status: string;
  authorizedAmount: number;
  capturedAmount: number;
  voidedAmount: number;
  refundedAmount: number;
  heldAmount: number;
  keptAmount: number;
}

interface PaymentView {
  paymentId: string;
  orderId: string;
  status: string;
  amount: number;
  currency: string;
}

/** Sends a command as the saga would; returns the envelope, so a test can publish the very same message again. */
async function send<D>(type: MessageType, orderId: string, data: D, again?: ReturnType<typeof envelope>) {
  const event = again ?? envelope(type, orderId, type.of(data).data, { service: 'saga', correlationId: orderId });
  const channel = await admin.confirmChannel();
  channel.publish('orderflow.commands', type.type, encode(event), {
    ...amqpProperties(event, 'saga'),
    userId: admin.user,
  });
  await channel.waitForConfirms();
  await channel.close();
  return event;
}

const authorize = (orderId: string, paymentToken: string, amount = 2599) =>
  send(AuthorizePayment, orderId, { orderId, amount, currency: 'EUR', paymentToken });

/** Waits for at least `count` payment events about `orderId`; returns them all, in the order published. */
async function waitForEvents(orderId: string, count: number, timeoutMs = 10_000): Promise<TappedEvent[]> {
  return waitFor(
    () => {
      const events = tap.about(orderId);
      return events.length >= count && events;
    },
    { timeoutMs, intervalMs: 100, what: `${count} event(s) about ${orderId}` },
  );
}

/** GET from the payment service, as an operator. */
const get = (path: string) => fetch(`${service.url}${path}`, { headers: asOperator() });

async function paymentsOf(orderId: string): Promise<PaymentView[]> {
  return (await (await get(`/payments?orderId=${orderId}`)).json()) as PaymentView[];
}

async function waitForStatus(orderId: string, status: string, timeoutMs = 10_000): Promise<PaymentView> {
  return waitFor(async () => (await paymentsOf(orderId)).find((p) => p.status === status), {
    timeoutMs,
    what: `payment of ${orderId} ${status}`,
  });
}

async function atGateway(orderId: string): Promise<GatewayAuthorization[]> {
  const res = await fetch(`${gateway.url}/v1/authorizations?reference=${orderId}`);
  return ((await res.json()) as { authorizations: GatewayAuthorization[] }).authorizations;
}

/** The money the gateway holds and keeps for an order, over all its authorisations. */
async function moneyAt(orderId: string) {
  const all = await atGateway(orderId);
  const sum = (pick: (a: GatewayAuthorization) => number) => all.reduce((total, a) => total + pick(a), 0);
  return {
    authorisedTimes: all.filter((a) => a.authorizedAmount > 0).length,
    held: sum((a) => a.heldAmount),
    kept: sum((a) => a.keptAmount),
  };
}

beforeAll(async () => {
  admin = await connectBrokerAs('saga', 'e2e@payments');
  tap = await new EventTap().open(
    [PaymentAuthorized, PaymentDeclined, PaymentCaptured, PaymentVoided, PaymentRefunded].map((m) => m.type),
  );
  await gateway.start();
  await service.start().waitReady();
});

afterAll(async () => {
  await service.stop();
  await gateway.stop();
  await tap.close();
  await admin.close();
});

describe('authorisation, capture and refund', () => {
  it('tok_ok: authorises, captures and refunds the amount, once each', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_ok', 4321);
    const [authorized] = await waitForEvents(orderId, 1);
    expect(authorized).toMatchObject({
      type: 'payment.authorized.v1',
      data: { orderId, amount: 4321, currency: 'EUR' },
    });
    const paymentId = authorized.data.paymentId as string;
    expect(await paymentsOf(orderId)).toEqual([
      { paymentId, orderId, status: 'AUTHORIZED', amount: 4321, currency: 'EUR' },
    ]);
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 4321, kept: 0 });

    await send(CapturePayment, orderId, { orderId });
    const captured = (await waitForEvents(orderId, 2))[1];
    expect(captured).toMatchObject({ type: 'payment.captured.v1', data: { orderId, paymentId, amount: 4321 } });
    expect((await paymentsOf(orderId))[0].status).toBe('CAPTURED');
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 0, kept: 4321 });

    await send(RefundPayment, orderId, { orderId, reason: 'stock unavailable' });
    const refunded = (await waitForEvents(orderId, 3))[2];
    expect(refunded).toMatchObject({ type: 'payment.refunded.v1', data: { orderId, paymentId, amount: 4321 } });
    expect((await paymentsOf(orderId))[0].status).toBe('REFUNDED');
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 0, kept: 0 });
  });

  it('tok_declined: declines, and nothing is held', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_declined');
    expect(await waitForEvents(orderId, 1)).toMatchObject([
      { type: 'payment.declined.v1', data: { orderId, code: 'DECLINED', reason: 'card_declined' } },
    ]);
    expect((await paymentsOf(orderId))[0].status).toBe('DECLINED');
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 0, held: 0, kept: 0 });
  });

  it('tok_flaky: retries through two transient failures and authorises once', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_flaky');
    expect(await waitForEvents(orderId, 1)).toMatchObject([{ type: 'payment.authorized.v1', data: { orderId } }]);
    expect(await atGateway(orderId)).toHaveLength(1);
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 2599, kept: 0 });
  });

  it('tok_slow: reports TIMED_OUT once the attempts are over, and the late approval is released', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_slow');
    const [declined] = await waitForEvents(orderId, 1);
    expect(declined).toMatchObject({ type: 'payment.declined.v1', data: { orderId, code: 'TIMED_OUT' } });
    expect((await paymentsOf(orderId))[0].status).toBe('DECLINED');
    // The gateway finishes the first request after SLOW_DELAY_MS; its reversal voids it at once.
    const [late] = await waitFor(
      async () => {
        const found = await atGateway(orderId);
        return found[0]?.status === 'voided' && found;
      },
      { timeoutMs: SLOW_DELAY_MS + 10_000, what: 'the late approval voided' },
    );
    expect(late).toMatchObject({ authorizedAmount: 2599, voidedAmount: 2599, heldAmount: 0, keptAmount: 0 });
    expect(tap.about(orderId)).toHaveLength(1);
  });

  it('tok_async: stays PENDING until the gateway calls back, then authorises', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_async');
    const [authorized] = await waitForEvents(orderId, 1);
    expect(authorized).toMatchObject({ type: 'payment.authorized.v1', data: { orderId, amount: 2599 } });
    const [authorization] = await atGateway(orderId);
    // The approval reached the service by callback, which it took (204) once stored.
    expect(
      gateway.output
        .join('')
        .split('\n')
        .some((line) => {
          if (!line.includes(authorization.authorizationId)) return false;
          const entry = JSON.parse(line) as { message: string; status?: number };
          return entry.message === 'callback delivered' && entry.status === 204;
        }),
    ).toBe(true);
    expect((await paymentsOf(orderId))[0].status).toBe('AUTHORIZED');
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 2599, kept: 0 });
  });

  it('tok_async_error: requests a new authorisation when the gateway says so, and authorises once', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_async_error');
    expect(await waitForEvents(orderId, 1)).toMatchObject([{ type: 'payment.authorized.v1', data: { orderId } }]);
    const authorizations = await atGateway(orderId);
    expect(authorizations.map((a) => a.status)).toEqual(['failed', 'approved']);
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 2599, kept: 0 });
    expect((await paymentsOf(orderId))[0].status).toBe('AUTHORIZED');
  });
});

describe('re-sent and redelivered commands', () => {
  it('authorise once: a duplicate message is dropped, a re-sent command gets the same outcome again', async () => {
    const orderId = randomUUID();
    const first = await authorize(orderId, 'tok_ok');
    await send(AuthorizePayment, orderId, undefined, first);
    await authorize(orderId, 'tok_ok');
    const events = await waitForEvents(orderId, 2);
    expect(events.map((e) => e.type)).toEqual(['payment.authorized.v1', 'payment.authorized.v1']);
    expect(events[1].data.paymentId).toBe(events[0].data.paymentId);
    expect(await paymentsOf(orderId)).toHaveLength(1);
    expect(await atGateway(orderId)).toHaveLength(1);

    await send(CapturePayment, orderId, { orderId });
    await send(CapturePayment, orderId, { orderId });
    const captures = (await waitForEvents(orderId, 4)).slice(2);
    expect(captures.map((e) => e.type)).toEqual(['payment.captured.v1', 'payment.captured.v1']);
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 0, kept: 2599 });
    expect(tap.about(orderId)).toHaveLength(4);
  });
});

describe('compensation', () => {
  it('voids an authorisation before capture, and answers a repeated void', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_ok');
    const [authorized] = await waitForEvents(orderId, 1);
    await send(VoidPayment, orderId, { orderId, reason: 'out of stock' });
    await send(VoidPayment, orderId, { orderId, reason: 'out of stock' });
    const voids = (await waitForEvents(orderId, 3)).slice(1);
    expect(voids).toMatchObject([
      { type: 'payment.voided.v1', data: { orderId, paymentId: authorized.data.paymentId } },
      { type: 'payment.voided.v1', data: { orderId, paymentId: authorized.data.paymentId } },
    ]);
    expect((await paymentsOf(orderId))[0].status).toBe('VOIDED');
    expect(await atGateway(orderId)).toMatchObject([{ status: 'voided', voidedAmount: 2599 }]);
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 0, kept: 0 });
  });

  it('remembers a void that comes while PENDING, and voids the approval when it arrives', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_async');
    await send(VoidPayment, orderId, { orderId, reason: 'deadline passed' });
    expect(await waitForEvents(orderId, 1)).toMatchObject([{ type: 'payment.voided.v1', data: { orderId } }]);
    await waitForStatus(orderId, 'VOIDED');
    expect(await atGateway(orderId)).toMatchObject([
      { status: 'voided', authorizedAmount: 2599, voidedAmount: 2599, heldAmount: 0 },
    ]);
    expect(await moneyAt(orderId)).toEqual({ authorisedTimes: 1, held: 0, kept: 0 });
    // The approval came after the saga had given up on it: it is never announced.
    expect(tap.about(orderId).map((e) => e.type)).toEqual(['payment.voided.v1']);
  });

  it('answers a compensation that overtakes its authorisation, which then holds nothing', async () => {
    const orderId = randomUUID();
    await send(RefundPayment, orderId, { orderId, reason: 'cancelled' });
    expect(await waitForEvents(orderId, 1)).toMatchObject([
      { type: 'payment.refunded.v1', data: { orderId, amount: 0 } },
    ]);
    await authorize(orderId, 'tok_ok');
    expect((await waitForEvents(orderId, 2))[1]).toMatchObject({
      type: 'payment.declined.v1',
      data: { orderId, code: 'DECLINED' },
    });
    expect(await atGateway(orderId)).toEqual([]);
    expect(await paymentsOf(orderId)).toMatchObject([{ status: 'VOIDED', amount: 0 }]);
  });
});

describe('REST', () => {
  it('GET /payments/{id} answers one payment, 404 for an unknown id and 400 for a malformed one', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_ok', 1000);
    const [authorized] = await waitForEvents(orderId, 1);
    const paymentId = authorized.data.paymentId as string;
    const res = await get(`/payments/${paymentId}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ paymentId, orderId, status: 'AUTHORIZED', amount: 1000, currency: 'EUR' });
    const unknown = await get(`/payments/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect((await get('/payments/not-a-uuid')).status).toBe(400);
  });

  it('GET /payments lists an order’s payments, and refuses a missing or malformed orderId', async () => {
    expect(await paymentsOf(randomUUID())).toEqual([]);
    const missing = await get('/payments');
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain('orderId');
    expect((await get('/payments?orderId=42')).status).toBe(400);
  });

  it('POST /gateway/webhooks refuses a malformed result, and one for an unknown order (the gateway retries)', async () => {
    // Signed as the gateway signs, so what is refused is the body, not the signature.
    const post = (body: unknown) => {
      const json = JSON.stringify(body);
      return fetch(`${service.url}/gateway/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signedWebhookHeaders(webhookSecret('PAYMENT_GATEWAY_WEBHOOK_SECRET'), json),
        },
        body: json,
      });
    };
    expect((await post({ authorizationId: 'auth_x', reference: randomUUID(), status: 'maybe' })).status).toBe(400);
    expect((await post({ authorizationId: 'auth_x', reference: randomUUID(), status: 'approved' })).status).toBe(404);
  });
});
