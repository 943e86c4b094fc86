// The poll of the gateway for asynchronous authorisations whose callback never comes, against the real processes: a
// gateway that drops every callback (WEBHOOK_DROP_RATE=1) still has its approvals recorded, once, by asking it; a
// callback and the poll both arriving record one result; the poll survives the service being killed while the
// authorisation is pending; and a window that ends without a result declines the payment TIMED_OUT and reverses the
// request. The schedule is compressed by configuration (1 s, then at most 2 s apart).
import { randomUUID } from 'node:crypto';
import { AuthorizePayment, PaymentAuthorized, PaymentDeclined } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope } from '@orderflow/messaging';
import {
  asOperator,
  connectBrokerAs,
  EventTap,
  freePort,
  ServiceProcess,
  signedWebhookHeaders,
  SimulatorProcess,
  testEnvironment,
  waitFor,
  webhookSecret,
} from '@orderflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The saga's broker user: what the saga sends, only it may (ADR 0016). */
let admin: BrokerConnection;
let tap: EventTap;
let db: pg.Client;

async function authorize(orderId: string, paymentToken = 'tok_async'): Promise<void> {
  const command = envelope(
    AuthorizePayment,
    orderId,
    { orderId, amount: 2599, currency: 'EUR', paymentToken },
    { service: 'saga', correlationId: orderId },
  );
  const channel = await admin.confirmChannel();
  channel.publish('orderflow.commands', AuthorizePayment.type, encode(command), {
    ...amqpProperties(command, 'saga'),
    userId: admin.user,
  });
  await channel.waitForConfirms();
  await channel.close();
}

/** The events of this type committed for the order: where a second one would show first. */
async function inOutbox(orderId: string, type: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox_messages WHERE ordering_key = $1 AND routing_key = $2',
    [orderId, type],
  );
  return rows[0].n;
}

/** Whether the poll of the order's authorisation is still scheduled. */
async function pollScheduled(orderId: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM scheduled_jobs j JOIN payments p ON p.id::text = j.key
      WHERE j.topic = 'payment.authorization-result' AND p.order_id = $1`,
    [orderId],
  );
  return rows[0].n === 1;
}

beforeAll(async () => {
  admin = await connectBrokerAs('saga', 'e2e@authorization-poll');
  tap = await new EventTap().open([PaymentAuthorized.type, PaymentDeclined.type]);
  db = new pg.Client({ connectionString: testEnvironment.databaseUrl('payment') });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await tap?.close();
  await admin?.close();
});

function paymentService(gateway: SimulatorProcess, port: number, window = '1d'): ServiceProcess {
  return new ServiceProcess('payment', {
    PAYMENT_GATEWAY_URL: gateway.url,
    PORT: String(port),
    // Keeps sent outbox rows, which inOutbox counts (by default they go on confirm).
    OUTBOX_RETENTION_HOURS: '24',
    SCHEDULER_POLL_INTERVAL_MS: '100',
    PAYMENT_AUTHORIZATION_POLL_FIRST_INTERVAL: '1s',
    PAYMENT_AUTHORIZATION_POLL_MAX_INTERVAL: '2s',
    PAYMENT_AUTHORIZATION_POLL_WINDOW: window,
  });
}

interface Authorization {
  authorizationId: string;
  status: string;
  heldAmount: number;
}

async function atGateway(gateway: SimulatorProcess, orderId: string): Promise<Authorization[]> {
  const res = await fetch(`${gateway.url}/v1/authorizations?reference=${orderId}`);
  return ((await res.json()) as { authorizations: Authorization[] }).authorizations;
}

describe('a gateway whose callbacks are lost', () => {
  let gateway: SimulatorProcess;
  let port: number;
  let service: ServiceProcess;

  beforeAll(async () => {
    gateway = await new SimulatorProcess('payment-gateway', await freePort(), {
      ASYNC_DELAY_MS: '300',
      WEBHOOK_DROP_RATE: '1',
    }).start();
    port = await freePort();
    service = await paymentService(gateway, port).start().waitReady();
  });

  afterAll(async () => {
    await service?.stop();
    await gateway?.stop();
  });

  const statusOf = async (orderId: string) =>
    (
      (await (await fetch(`${service.url}/payments?orderId=${orderId}`, { headers: asOperator() })).json()) as {
        status: string;
      }[]
    )[0]?.status;

  /** The callback the gateway would have sent, signed as it signs. */
  const callback = (orderId: string, authorizationId: string) => {
    const body = JSON.stringify({ authorizationId, reference: orderId, status: 'approved' });
    return fetch(`${service.url}/gateway/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signedWebhookHeaders(webhookSecret('PAYMENT_GATEWAY_WEBHOOK_SECRET'), body),
      },
      body,
    });
  };

  const pending = (orderId: string) =>
    waitFor(async () => (await statusOf(orderId)) === 'PENDING', { what: `the payment of ${orderId} PENDING` });

  it('records the approval whose callback was never sent by asking the gateway, and tells the saga once', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    const authorized = await tap.next(orderId, PaymentAuthorized.type);
    expect(authorized.data).toMatchObject({ orderId, amount: 2599 });
    expect(gateway.output.join('')).toContain('callback dropped');
    expect(await statusOf(orderId)).toBe('AUTHORIZED');
    expect(await inOutbox(orderId, PaymentAuthorized.type)).toBe(1);
    expect(await pollScheduled(orderId)).toBe(false);
    expect(await atGateway(gateway, orderId)).toMatchObject([{ status: 'approved', heldAmount: 2599 }]);
  });

  it('records one approval when the callback comes after the poll found it', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    await tap.next(orderId, PaymentAuthorized.type);
    const [{ authorizationId }] = await atGateway(gateway, orderId);
    expect((await callback(orderId, authorizationId)).status).toBe(204);
    expect(await inOutbox(orderId, PaymentAuthorized.type)).toBe(1);
  });

  it('records one approval when the callback comes first: it ends the poll in its transaction', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    await pending(orderId);
    const [{ authorizationId }] = await atGateway(gateway, orderId);
    expect((await callback(orderId, authorizationId)).status).toBe(204);
    expect(await statusOf(orderId)).toBe('AUTHORIZED');
    expect(await pollScheduled(orderId)).toBe(false);
    expect((await callback(orderId, authorizationId)).status).toBe(204);
    expect(await inOutbox(orderId, PaymentAuthorized.type)).toBe(1);
    expect(tap.about(orderId)).toHaveLength(1);
  });

  it('keeps asking after the service is killed while the authorisation is pending', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    await pending(orderId);
    service.kill();
    await service.exitCode();
    // Approved (and its callback dropped) while no payment process runs: only the stored poll can find it.
    await waitFor(async () => (await atGateway(gateway, orderId))[0]?.status === 'approved', {
      what: 'the gateway to approve',
    });
    expect(await pollScheduled(orderId)).toBe(true);

    service = await paymentService(gateway, port).start().waitReady();
    const authorized = await tap.next(orderId, PaymentAuthorized.type, 20_000);
    expect(authorized.data).toMatchObject({ orderId });
    expect(await statusOf(orderId)).toBe('AUTHORIZED');
    expect(await inOutbox(orderId, PaymentAuthorized.type)).toBe(1);
  });
});

describe('an authorisation whose result never comes', () => {
  let gateway: SimulatorProcess;
  let service: ServiceProcess;

  beforeAll(async () => {
    // The result would come after ten minutes: long after the window.
    gateway = await new SimulatorProcess('payment-gateway', await freePort(), { ASYNC_DELAY_MS: '600000' }).start();
    service = await paymentService(gateway, await freePort(), '3s')
      .start()
      .waitReady();
  });

  afterAll(async () => {
    await service?.stop();
    await gateway?.stop();
  });

  it('is declined TIMED_OUT once the polling window has ended, and the request reversed at the gateway', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    const declined = await tap.next(orderId, PaymentDeclined.type, 20_000);
    expect(declined.data).toMatchObject({
      orderId,
      code: 'TIMED_OUT',
      reason: expect.stringMatching(/^the gateway reported no result for authorisation auth_\S+ within 3s$/) as string,
    });
    expect(await pollScheduled(orderId)).toBe(false);
    // The reversal follow-up releases whatever the gateway still approves under the request's key.
    await waitFor(
      () =>
        gateway.output
          .join('')
          .split('\n')
          .some((line) => line.includes('"path":"/v1/reversals"') && line.includes('"status":200')),
      { what: 'the request to be reversed at the gateway' },
    );
    expect(await inOutbox(orderId, PaymentDeclined.type)).toBe(1);
  });
});
