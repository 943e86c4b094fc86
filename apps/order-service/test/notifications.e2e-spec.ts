// Merchant notifications against the real order service, its database, the broker and a real HTTP receiver: status
// changes reported by the saga (published here as the saga would) reach the merchant's endpoint signed, retried on a
// (compressed) schedule until acknowledged, marked FAILED after the last attempt, redelivered by an operator, and
// resumed after the notifying process is killed, with nothing lost or sent twice. Signatures are checked with the
// official `standardwebhooks` library.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OrderStatusChanged } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope } from '@orderflow/messaging';
import {
  asOperator,
  bearer,
  connectBrokerAs,
  createMerchant,
  freePort,
  recordIssuedSecret,
  ServiceProcess,
  type TestMerchant,
  waitFor,
} from '@orderflow/testing';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Retries 1.5 s apart, three retries: four attempts in all. Attempts time out after 1 s (a lease is then 7 s).
const SCHEDULE = { NOTIFICATION_RETRY_SCHEDULE: '1500ms,1500ms,1500ms', NOTIFICATION_TIMEOUT_MS: '1000' };
const ATTEMPTS = 4;

let service: ServiceProcess;
/** The saga's broker user: what the saga sends, only it may (ADR 0016). */
let admin: BrokerConnection;
let merchant: TestMerchant;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number | 'hung';
}

/** A merchant's endpoint: answers each request as `answer` says, and keeps everything it was sent. */
class Receiver {
  readonly received: Received[] = [];
  answer: (n: number) => number | 'hang' = () => 200;
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.answer(this.received.length + 1);
        this.received.push({
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
          answered: answer === 'hang' ? 'hung' : answer,
        });
        if (answer === 'hang') return;
        res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'success' : 'not now');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hooks/orderflow`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

function orderBody(callbackUrl: string) {
  return {
    customerId: `customer-${randomUUID().slice(0, 8)}`,
    currency: 'EUR',
    items: [{ sku: 'SKU-CHAIR-01', quantity: 1, unitPrice: 4999 }],
    payment: { method: 'card', token: 'tok_ok' },
    shippingAddress: { name: 'Ada Lovelace', line1: '12 Square', city: 'London', postalCode: 'SW1Y', country: 'GB' },
    callbackUrl,
  };
}

async function place(url: string, callbackUrl: string, as = merchant): Promise<Response> {
  return fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(as.apiKey) },
    body: JSON.stringify(orderBody(callbackUrl)),
  });
}

async function placeOrder(callbackUrl: string): Promise<string> {
  const res = await place(service.url, callbackUrl);
  expect(res.status).toBe(202);
  return ((await res.json()) as { orderId: string }).orderId;
}

/** Publishes the saga's report of a new status, as the orchestrator does. */
async function reportStatus(orderId: string, status: string, statusReason?: string): Promise<void> {
  const event = envelope(
    OrderStatusChanged,
    orderId,
    { orderId, status, ...(statusReason && { statusReason }) } as never,
    { service: 'saga', correlationId: orderId },
  );
  const channel = await admin.confirmChannel();
  channel.publish('orderflow.events', OrderStatusChanged.type, encode(event), {
    ...amqpProperties(event, 'saga'),
    userId: admin.user,
  });
  await channel.waitForConfirms();
  await channel.close();
}

interface NotificationView {
  notificationId: string;
  status: string;
  statusReason?: string;
  sequence: number;
  state: string;
  attempts: { attempt: number; outcome?: string; statusCode?: number; latencyMs?: number; error?: string }[];
}

async function notificationsOf(orderId: string, headers: Record<string, string> = bearer(merchant.apiKey)) {
  const res = await fetch(`${service.url}/orders/${orderId}/notifications`, { headers });
  return { status: res.status, body: (await res.json()) as { notifications: NotificationView[] } };
}

async function settled(orderId: string, count = 1): Promise<NotificationView[]> {
  return waitFor(
    async () => {
      const { notifications } = (await notificationsOf(orderId)).body;
      return notifications.length >= count && notifications.every((n) => n.state !== 'PENDING') && notifications;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `the notifications of ${orderId} to settle` },
  );
}

const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as Record<string, unknown>;

beforeAll(async () => {
  admin = await connectBrokerAs('saga', 'e2e@notifications');
  service = await new ServiceProcess('order', SCHEDULE).start().waitReady();
  merchant = await createMerchant(service.url, 'Notifications e2e');
});

afterAll(async () => {
  await service.stop();
  await admin.close();
});

describe('merchant notifications', () => {
  it('tells the merchant of every status change, signed, in order, each once', async () => {
    const receiver = await new Receiver().start();
    try {
      const orderId = await placeOrder(receiver.url);
      await reportStatus(orderId, 'CONFIRMED');
      await reportStatus(orderId, 'CONFIRMED'); // a duplicate report changes nothing, so notifies nothing
      await reportStatus(orderId, 'SHIPPED');
      await reportStatus(orderId, 'DELIVERED');
      const views = await settled(orderId, 3);

      expect(views.map((n) => [n.status, n.sequence, n.state])).toEqual([
        ['CONFIRMED', 2, 'DELIVERED'],
        ['SHIPPED', 3, 'DELIVERED'],
        ['DELIVERED', 4, 'DELIVERED'],
      ]);
      expect(receiver.received).toHaveLength(3);
      const payloads = receiver.received.map((r) => verify(merchant.webhookSecret, r));
      expect(payloads.map((p) => [p.status, p.sequence]).sort()).toEqual([
        ['CONFIRMED', 2],
        ['DELIVERED', 4],
        ['SHIPPED', 3],
      ]);
      for (const [i, r] of receiver.received.entries()) {
        const payload = payloads[i];
        expect(payload).toEqual({
          notificationId: r.headers['webhook-id'],
          orderId,
          status: payload.status,
          sequence: payload.sequence,
          occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        });
        expect(r.headers['content-type']).toBe('application/json');
        expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      }
      expect(() => verify(`whsec_${Buffer.from(randomUUID()).toString('base64')}`, receiver.received[0])).toThrow();
    } finally {
      await receiver.stop();
    }
  });

  it('retries a merchant endpoint that is down until it answers, then delivers once', async () => {
    const receiver = await new Receiver().start();
    receiver.answer = (n) => (n <= 2 ? 503 : 200);
    try {
      const orderId = await placeOrder(receiver.url);
      await reportStatus(orderId, 'CANCELLED', 'PAYMENT_DECLINED');
      const [view] = await settled(orderId);

      expect(view).toMatchObject({ status: 'CANCELLED', statusReason: 'PAYMENT_DECLINED', state: 'DELIVERED' });
      expect(view.attempts.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
        [1, 'FAILED', 503],
        [2, 'FAILED', 503],
        [3, 'ACKNOWLEDGED', 200],
      ]);
      expect(view.attempts.every((a) => typeof a.latencyMs === 'number')).toBe(true);
      expect(receiver.received).toHaveLength(3);
      // The same notification every time: one id, one body, each attempt signed for its own timestamp.
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([view.notificationId]));
      expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
      for (const r of receiver.received) expect(verify(merchant.webhookSecret, r)).toMatchObject({ orderId });
      // Retried after the scheduled wait, not at once.
      const times = receiver.received.map((r) => Number(r.headers['webhook-timestamp']));
      expect(times[1] - times[0]).toBeGreaterThanOrEqual(1);
    } finally {
      await receiver.stop();
    }
  });

  it('makes exactly the scheduled attempts to an endpoint that never answers, then fails it for operators to redeliver', async () => {
    const receiver = await new Receiver().start();
    receiver.answer = () => 500;
    try {
      const orderId = await placeOrder(receiver.url);
      await reportStatus(orderId, 'CONFIRMED');
      const [view] = await settled(orderId);

      expect(view.state).toBe('FAILED');
      expect(view.attempts).toHaveLength(ATTEMPTS);
      expect(view.attempts.every((a) => a.outcome === 'FAILED' && a.statusCode === 500)).toBe(true);
      // Nothing more is attempted after the last one.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(receiver.received).toHaveLength(ATTEMPTS);

      const failed = await fetch(`${service.url}/notifications?state=FAILED`, { headers: asOperator() });
      expect(failed.status).toBe(200);
      const listed = ((await failed.json()) as { notifications: NotificationView[] }).notifications;
      expect(listed.map((n) => n.notificationId)).toContain(view.notificationId);
      // Merchants do not see the operators' list, nor may they redeliver.
      expect((await fetch(`${service.url}/notifications`, { headers: bearer(merchant.apiKey) })).status).toBe(401);

      const path = `${service.url}/notifications/${view.notificationId}/redeliver`;
      expect((await fetch(path, { method: 'POST', headers: bearer(merchant.apiKey) })).status).toBe(401);
      receiver.answer = () => 200;
      const redelivered = await fetch(path, { method: 'POST', headers: asOperator() });
      expect(redelivered.status).toBe(202);
      const [after] = await settled(orderId);
      expect(after.state).toBe('DELIVERED');
      expect(after.attempts.map((a) => a.outcome)).toEqual([...Array<string>(ATTEMPTS).fill('FAILED'), 'ACKNOWLEDGED']);
      expect(receiver.received).toHaveLength(ATTEMPTS + 1);
      expect(receiver.received.at(-1)!.headers['webhook-id']).toBe(view.notificationId);

      const missing = await fetch(`${service.url}/notifications/${randomUUID()}/redeliver`, {
        method: 'POST',
        headers: asOperator(),
      });
      expect(missing.status).toBe(404);
    } finally {
      await receiver.stop();
    }
  });

  it('signs with every active secret during a rotation, so the merchant may verify with either', async () => {
    const added = await fetch(`${service.url}/merchants/${merchant.merchantId}/webhook-secrets`, {
      method: 'POST',
      headers: asOperator(),
    });
    expect(added.status).toBe(201);
    const { webhookSecret: next, secretId } = (await added.json()) as { webhookSecret: string; secretId: string };
    recordIssuedSecret(next);
    const receiver = await new Receiver().start();
    try {
      const orderId = await placeOrder(receiver.url);
      await reportStatus(orderId, 'CONFIRMED');
      await settled(orderId);
      const [delivery] = receiver.received;
      expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verify(merchant.webhookSecret, delivery)).toMatchObject({ orderId, status: 'CONFIRMED' });
      expect(verify(next, delivery)).toMatchObject({ orderId, status: 'CONFIRMED' });
    } finally {
      await receiver.stop();
      await fetch(`${service.url}/merchants/${merchant.merchantId}/webhook-secrets/${secretId}`, {
        method: 'DELETE',
        headers: asOperator(),
      });
    }
  });

  it("shows an order's notifications to its merchant and operators only", async () => {
    const receiver = await new Receiver().start();
    try {
      const orderId = await placeOrder(receiver.url);
      await reportStatus(orderId, 'CONFIRMED');
      await settled(orderId);
      const other = await createMerchant(service.url, 'Someone else');
      const theirs = await notificationsOf(orderId, bearer(other.apiKey));
      const missing = await notificationsOf(randomUUID());
      expect(theirs.status).toBe(404);
      expect(missing.status).toBe(404);
      // The same problem, but for the path it names.
      const withoutInstance = (problem: unknown) => ({ ...(problem as object), instance: undefined });
      expect(withoutInstance(theirs.body)).toEqual(withoutInstance(missing.body));
      const operator = await notificationsOf(orderId, asOperator());
      expect(operator.status).toBe(200);
      expect(operator.body.notifications).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });
});

describe("a merchant's own schedule", () => {
  async function setPolicy(merchantId: string, body: unknown) {
    return fetch(`${service.url}/merchants/${merchantId}/notification-policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...asOperator() },
      body: JSON.stringify(body),
    });
  }

  it('replaces the default per merchant and per status, with an optional delay before the first attempt', async () => {
    const own = await createMerchant(service.url, 'Own schedule');
    const policy = {
      default: { strategy: 'fixed', interval: '500ms', retries: 1 },
      byStatus: { CANCELLED: { strategy: 'intervals', intervals: [], firstAttemptDelay: '2s' } },
    };
    const set = await setPolicy(own.merchantId, policy);
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual(policy);
    const read = await fetch(`${service.url}/merchants/${own.merchantId}/notification-policy`, {
      headers: asOperator(),
    });
    expect(await read.json()).toEqual(policy);

    const receiver = await new Receiver().start();
    receiver.answer = () => 503;
    try {
      const placeAsOwn = async () =>
        ((await (await place(service.url, receiver.url, own)).json()) as { orderId: string }).orderId;
      const [confirmedId, cancelledId] = [await placeAsOwn(), await placeAsOwn()];
      const reportedAt = Date.now();
      await reportStatus(confirmedId, 'CONFIRMED');
      await reportStatus(cancelledId, 'CANCELLED', 'OUT_OF_STOCK');
      const asOwn = bearer(own.apiKey);
      const views = await waitFor(
        async () => {
          const both = await Promise.all([confirmedId, cancelledId].map((id) => notificationsOf(id, asOwn)));
          const all = both.flatMap((b) => b.body.notifications);
          return all.length === 2 && all.every((n) => n.state === 'FAILED') && all;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: 'both notifications to fail' },
      );
      // The merchant's default: one retry. Its CANCELLED schedule: no retry, after a 2 s wait.
      expect(views.map((n) => [n.status, n.attempts.length])).toEqual([
        ['CONFIRMED', 2],
        ['CANCELLED', 1],
      ]);
      const cancelledAttempt = receiver.received.find((r) => JSON.parse(r.body).status === 'CANCELLED')!;
      expect(Number(cancelledAttempt.headers['webhook-timestamp']) * 1000).toBeGreaterThanOrEqual(reportedAt + 1_000);
    } finally {
      await receiver.stop();
    }
  });

  it('refuses a schedule that is not one, naming what is wrong', async () => {
    for (const bad of [
      { default: { strategy: 'fixed', interval: 'soon', retries: 1 } },
      { default: { strategy: 'exponential', initial: '1m', factor: 2, max: '10s', retries: 3 } },
      { default: { strategy: 'sometimes' } },
      { byStatus: { CONFIRMED: { strategy: 'intervals', intervals: ['8d'] } } },
    ]) {
      const res = await setPolicy(merchant.merchantId, bad);
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }
    expect((await setPolicy(randomUUID(), {})).status).toBe(404);
    const res = await fetch(`${service.url}/merchants/${merchant.merchantId}/notification-policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...bearer(merchant.apiKey) },
      body: '{}',
    });
    expect(res.status).toBe(401);
  });
});

describe('a notifying process that is killed', () => {
  it('between attempts: the schedule resumes after restart with nothing lost or doubled', async () => {
    const receiver = await new Receiver().start();
    receiver.answer = (n) => (n === 1 ? 503 : 200);
    try {
      const orderId = await placeOrder(receiver.url);
      await reportStatus(orderId, 'CONFIRMED');
      await waitFor(() => receiver.received.length === 1, { what: 'the first attempt' });
      await waitFor(async () => (await notificationsOf(orderId)).body.notifications[0]?.attempts[0]?.outcome, {
        what: 'the first attempt to be recorded',
      });
      service.kill();
      await service.exitCode();
      service = await new ServiceProcess('order', SCHEDULE).start().waitReady();

      const [view] = await settled(orderId);
      expect(view.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
        [1, 'FAILED'],
        [2, 'ACKNOWLEDGED'],
      ]);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(receiver.received).toHaveLength(2);
    } finally {
      await receiver.stop();
    }
  });

  it('during an attempt: that attempt counts as interrupted and the next follows the schedule, once', async () => {
    const receiver = await new Receiver().start();
    receiver.answer = (n) => (n === 1 ? 'hang' : 200);
    try {
      const orderId = await placeOrder(receiver.url);
      await reportStatus(orderId, 'CONFIRMED');
      await waitFor(() => receiver.received.length === 1, { what: 'the first attempt to reach the endpoint' });
      service.kill();
      await service.exitCode();
      service = await new ServiceProcess('order', SCHEDULE).start().waitReady();

      // The dead process's lease (2 × timeout + 5 s) must run out before the job is taken again.
      const [view] = await settled(orderId);
      expect(view.state).toBe('DELIVERED');
      expect(view.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
        [1, 'INTERRUPTED'],
        [2, 'ACKNOWLEDGED'],
      ]);
      expect(receiver.received.map((r) => r.answered)).toEqual(['hung', 200]);
    } finally {
      await receiver.stop();
    }
  });
});

describe('callback URLs', () => {
  it('are refused at placement with 400 when they could reach inside the network', async () => {
    const port = await freePort();
    const strict = await new ServiceProcess('order', {
      ...SCHEDULE,
      PORT: String(port),
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'false',
    })
      .start()
      .waitReady();
    try {
      const placer = await createMerchant(strict.url, 'Strict callbacks');
      for (const url of [
        'http://127.0.0.1:8080/hooks',
        'http://localhost/hooks',
        'http://169.254.169.254/latest/meta-data',
        'http://10.0.0.7/hooks',
        'http://192.168.1.1/hooks',
        'http://[::1]/hooks',
        'http://[::ffff:127.0.0.1]/hooks',
        'http://2130706433/hooks',
        'ftp://merchant.example/hooks',
        'http://user:secret@merchant.example/hooks',
      ]) {
        const res = await place(strict.url, url, placer);
        expect({ url, status: res.status }).toEqual({ url, status: 400 });
        const problem = (await res.json()) as { detail?: string; errors?: unknown };
        expect(JSON.stringify(problem)).toMatch(/callbackUrl/);
      }
      const unresolvable = await place(strict.url, `https://${randomUUID()}.invalid/hooks`, placer);
      expect(unresolvable.status).toBe(400);
      // An internal name, an unresolvable one and a private address get the very same answer: placing orders cannot
      // tell which names exist inside.
      const answers = new Set<string>();
      for (const url of ['http://localhost/hooks', `https://${randomUUID()}.invalid/hooks`, 'http://10.0.0.7/hooks']) {
        const res = await place(strict.url, url, placer);
        answers.add(`${res.status} ${JSON.stringify(await res.json())}`);
      }
      expect(answers.size).toBe(1);
      expect([...answers][0]).toMatch(/^400 .*callbackUrl must name a host that resolves/);
      // None of them placed an order.
      const listed = await fetch(`${strict.url}/orders`, { headers: bearer(placer.apiKey) });
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { orders: unknown[] }).orders).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});
