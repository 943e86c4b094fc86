// The payment's gateway follow-ups on the durable scheduler (ADR 0021), against the real processes: a reversal the
// gateway keeps refusing survives the service being killed and is made once by one of two replicas started in its
// place; re-requests the gateway asked for are made once each while two replicas poll for them; and a follow-up left
// due on the payment row before the upgrade's migration is made after it. Between the service and the gateway
// simulator sits a proxy of the test's own, which records every call and can refuse or hold some up.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { AuthorizePayment, PaymentAuthorized, PaymentDeclined } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope } from '@orderflow/messaging';
import {
  connectBrokerAs,
  EventTap,
  freePort,
  ServiceProcess,
  SimulatorProcess,
  testEnvironment,
  waitFor,
} from '@orderflow/testing';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/database.js';
import { GatewayFollowUpsAsScheduledJobs1766000000000 } from '../src/migrations/1766000000000-gateway-follow-ups-as-scheduled-jobs.js';

const TOPIC = 'payment.gateway-follow-up';

/** The saga's broker user: what the saga sends, only it may (ADR 0016). */
let admin: BrokerConnection;
let tap: EventTap;
let db: pg.Client;

interface GatewayCall {
  method: string;
  path: string;
  idempotencyKey?: string;
  body: Record<string, unknown> | undefined;
  /** What the service got back: the gateway's status, or 503 when the proxy refused the call. */
  status: number;
}

/** The gateway as the service reaches it: every call recorded, and those the test picks refused (503) or held up. */
class GatewayProxy {
  readonly calls: GatewayCall[] = [];
  refuse: (call: Omit<GatewayCall, 'status'>) => boolean = () => false;
  holdMs: (call: Omit<GatewayCall, 'status'>) => number = () => 0;
  private server?: Server;

  constructor(private readonly target: string) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.forward(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8');
    const key = req.headers['idempotency-key'];
    const call = {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://proxy').pathname,
      idempotencyKey: typeof key === 'string' ? key : undefined,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
    let status = 503;
    let answer = JSON.stringify({ error: 'temporarily_unavailable' });
    if (!this.refuse(call)) {
      const hold = this.holdMs(call);
      if (hold > 0) await delay(hold);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (call.idempotencyKey) headers['idempotency-key'] = call.idempotencyKey;
      try {
        const forwarded = await fetch(`${this.target}${req.url ?? '/'}`, {
          method: call.method,
          headers,
          body: call.method === 'GET' ? undefined : text,
        });
        status = forwarded.status;
        answer = await forwarded.text();
      } catch (err) {
        status = 502;
        answer = JSON.stringify({ error: (err as Error).message });
      }
    }
    this.calls.push({ ...call, status });
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(answer);
  }

  reversalsOf(idempotencyKey: string): GatewayCall[] {
    return this.calls.filter((c) => c.path === '/v1/reversals' && c.body?.idempotencyKey === idempotencyKey);
  }

  authorizationRequests(idempotencyKey: string): GatewayCall[] {
    return this.calls.filter(
      (c) => c.method === 'POST' && c.path === '/v1/authorizations' && c.idempotencyKey === idempotencyKey,
    );
  }
}

function paymentService(
  gatewayUrl: string,
  port: number,
  settings: Record<string, string | undefined> = {},
): ServiceProcess {
  return new ServiceProcess('payment', {
    PAYMENT_GATEWAY_URL: gatewayUrl,
    PORT: String(port),
    SCHEDULER_POLL_INTERVAL_MS: '100',
    // Keeps sent outbox rows, which outboxCount counts (by default they go on confirm).
    OUTBOX_RETENTION_HOURS: '24',
    ...settings,
  });
}

async function authorize(orderId: string, paymentToken: string): Promise<void> {
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

interface FollowUpRow {
  status: string;
  follow_up: string | null;
  follow_up_due_at: Date | null;
  job_due_at: Date | null;
}

/** The order's payment as stored, with its follow-up and the scheduler's job for it. */
async function followUpOf(client: pg.Client, orderId: string): Promise<FollowUpRow | undefined> {
  const { rows } = await client.query<FollowUpRow>(
    `SELECT p.status, p.follow_up, p.follow_up_due_at, j.due_at AS job_due_at
       FROM payments p LEFT JOIN scheduled_jobs j ON j.topic = $2 AND j.key = p.id::text
      WHERE p.order_id = $1`,
    [orderId, TOPIC],
  );
  return rows[0];
}

/** The events of this type committed for the order: where a second one would show first. */
async function outboxCount(orderId: string, type: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox_messages WHERE ordering_key = $1 AND routing_key = $2',
    [orderId, type],
  );
  return rows[0].n;
}

interface Authorization {
  status: string;
  heldAmount: number;
}

async function atGateway(gateway: SimulatorProcess, orderId: string): Promise<Authorization[]> {
  const res = await fetch(`${gateway.url}/v1/authorizations?reference=${orderId}`);
  return ((await res.json()) as { authorizations: Authorization[] }).authorizations;
}

beforeAll(async () => {
  admin = await connectBrokerAs('saga', 'e2e@gateway-follow-ups');
  tap = await new EventTap().open([PaymentAuthorized.type, PaymentDeclined.type]);
  db = new pg.Client({ connectionString: testEnvironment.databaseUrl('payment') });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await tap?.close();
  await admin?.close();
});

describe('a follow-up the gateway refuses until the service has been killed', () => {
  let gateway: SimulatorProcess;
  let proxy: GatewayProxy;
  let replicas: ServiceProcess[] = [];

  beforeAll(async () => {
    gateway = await new SimulatorProcess('payment-gateway', await freePort(), { SLOW_DELAY_MS: '3000' }).start();
    proxy = await new GatewayProxy(gateway.url).start();
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await proxy?.stop();
    await gateway?.stop();
  });

  it('is made after the restart, once, by one of two replicas, and the late approval holds nothing', async () => {
    const orderId = randomUUID();
    proxy.refuse = (call) => call.path === '/v1/reversals' && call.body?.idempotencyKey === orderId;
    const port = await freePort();
    const timeouts = { PAYMENT_GATEWAY_TIMEOUT_MS: '500', RETRY_MAX_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '100' };
    const first = await paymentService(proxy.url, port, timeouts).start().waitReady();
    replicas = [first];

    // The request never answers in time: TIMED_OUT, and its key is to be reversed, which the gateway refuses for now.
    await authorize(orderId, 'tok_slow');
    expect((await tap.next(orderId, PaymentDeclined.type, 20_000)).data).toMatchObject({ code: 'TIMED_OUT' });
    await waitFor(() => proxy.reversalsOf(orderId).length > 0, { what: 'a refused reversal' });
    first.kill();
    await first.exitCode();

    // With no payment process running the gateway approves the request: money is held, and only the job remains.
    await waitFor(async () => (await atGateway(gateway, orderId))[0]?.status === 'approved', {
      what: 'the late approval',
    });
    const stored = await followUpOf(db, orderId);
    expect(stored?.follow_up).toBe('REVERSE');
    expect(stored?.job_due_at).toBeInstanceOf(Date);

    proxy.refuse = () => false;
    replicas = [
      paymentService(proxy.url, port, timeouts).start(),
      paymentService(proxy.url, await freePort(), timeouts).start(),
    ];
    await Promise.all(replicas.map((r) => r.waitReady()));
    const [released] = await waitFor(
      async () => {
        const found = await atGateway(gateway, orderId);
        return found[0]?.status === 'voided' && found;
      },
      { timeoutMs: 30_000, what: 'the approval released by the reversal' },
    );
    expect(released.heldAmount).toBe(0);
    await waitFor(async () => (await followUpOf(db, orderId))?.follow_up === null, { what: 'the follow-up done' });

    expect(proxy.reversalsOf(orderId).filter((c) => c.status === 200)).toHaveLength(1);
    expect(await followUpOf(db, orderId)).toMatchObject({ status: 'DECLINED', job_due_at: null });
    expect(await outboxCount(orderId, PaymentDeclined.type)).toBe(1);
  });
});

describe('re-requests due while two replicas poll for them', () => {
  const ORDERS = 6;
  const HOLD_MS = 800;
  let gateway: SimulatorProcess;
  let proxy: GatewayProxy;
  let replicas: ServiceProcess[] = [];

  beforeAll(async () => {
    gateway = await new SimulatorProcess('payment-gateway', await freePort(), {
      ASYNC_DELAY_MS: '200',
      RETRY_AFTER_MS: '300',
    }).start();
    proxy = await new GatewayProxy(gateway.url).start();
    // Each re-request takes HOLD_MS at the gateway: a replica that ignored the other's claim would ask again meanwhile.
    proxy.holdMs = (call) => (call.idempotencyKey?.endsWith('.2') ? HOLD_MS : 0);
    replicas = [
      paymentService(proxy.url, await freePort()).start(),
      paymentService(proxy.url, await freePort()).start(),
    ];
    await Promise.all(replicas.map((r) => r.waitReady()));
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await proxy?.stop();
    await gateway?.stop();
  });

  it('are made once each, and each payment is authorised once', async () => {
    const orders = Array.from({ length: ORDERS }, () => randomUUID());
    // The gateway fails each first request and asks for a new one 300 ms later: a REAUTHORIZE follow-up.
    await Promise.all(orders.map((orderId) => authorize(orderId, 'tok_async_error')));
    for (const orderId of orders) {
      expect((await tap.next(orderId, PaymentAuthorized.type, 30_000)).data).toMatchObject({ orderId, amount: 2599 });
    }
    for (const orderId of orders) {
      expect(proxy.authorizationRequests(`${orderId}.2`), orderId).toHaveLength(1);
      expect(await outboxCount(orderId, PaymentAuthorized.type)).toBe(1);
      expect(await followUpOf(db, orderId)).toMatchObject({ status: 'AUTHORIZED', follow_up: null, job_due_at: null });
      expect((await atGateway(gateway, orderId)).map((a) => [a.status, a.heldAmount])).toEqual([
        ['failed', 0],
        ['approved', 2599],
      ]);
    }
  });
});

describe('a follow-up due on the payment row before the upgrade', () => {
  const database = `payment_upgrade_${randomUUID().slice(0, 8)}`;
  let url: string;
  let gateway: SimulatorProcess;
  let service: ServiceProcess | undefined;
  let client: pg.Client | undefined;

  beforeAll(async () => {
    const server = new pg.Client({ connectionString: testEnvironment.postgresAdminUrl() });
    await server.connect();
    await server.query(`CREATE DATABASE ${database}`);
    await server.end();
    const address = new URL(testEnvironment.postgresAdminUrl());
    address.pathname = `/${database}`;
    url = address.toString();
    gateway = await new SimulatorProcess('payment-gateway', await freePort()).start();
  });

  afterEach(async () => {
    await client?.end();
    client = undefined;
  });

  afterAll(async () => {
    await service?.stop();
    await gateway?.stop();
    const server = new pg.Client({ connectionString: testEnvironment.postgresAdminUrl() });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  });

  /** The payment database with its migrations applied up to, and without, the one that moved the follow-ups. */
  const previous = (schema.migrations as unknown[]).filter((m) => m !== GatewayFollowUpsAsScheduledJobs1766000000000);
  const dataSource = (withUpgrade: boolean) =>
    new DataSource({
      type: 'postgres',
      url,
      migrations: withUpgrade ? schema.migrations : (previous as typeof schema.migrations),
      migrationsTableName: 'typeorm_migrations',
      migrationsTransactionMode: 'each',
    });

  it('gets its job from the migration, loses it again on revert, and is made once the new version runs', async () => {
    const before = await dataSource(false).initialize();
    await before.runMigrations();
    await before.destroy();

    // As the previous version left it: a request that timed out, its key to be reversed, the gateway holding money.
    const orderId = randomUUID();
    const held = await fetch(`${gateway.url}/v1/authorizations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': orderId },
      body: JSON.stringify({ amount: 2599, currency: 'EUR', token: 'tok_ok', reference: orderId }),
    });
    expect(held.status).toBe(201);
    client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      `INSERT INTO payments (id, order_id, status, amount, currency, authorization_requests, decline_code,
         decline_reason, follow_up, follow_up_due_at, follow_up_failures, correlation_id)
       VALUES ($1, $2, 'DECLINED', 2599, 'EUR', 1, 'TIMED_OUT', 'the gateway did not answer', 'REVERSE',
         now() - interval '1 minute', 2, $3)`,
      [randomUUID(), orderId, orderId],
    );

    const upgrade = await dataSource(true).initialize();
    await upgrade.runMigrations();
    const moved = await followUpOf(client, orderId);
    expect(moved?.job_due_at).toEqual(moved?.follow_up_due_at);
    const { rows } = await client.query<{ payload: unknown }>(`SELECT payload FROM scheduled_jobs WHERE topic = $1`, [
      TOPIC,
    ]);
    expect(rows).toEqual([{ payload: { correlationId: orderId } }]);
    await upgrade.undoLastMigration();
    expect(await followUpOf(client, orderId)).toMatchObject({ follow_up: 'REVERSE', job_due_at: null });
    await upgrade.destroy();

    // The new version migrates at start-up (as the database's owner here), then makes the reversal.
    service = await paymentService(gateway.url, await freePort(), {
      DATABASE_URL: url,
      MIGRATION_DATABASE_URL: undefined,
    })
      .start()
      .waitReady();
    const [released] = await waitFor(
      async () => {
        const found = await atGateway(gateway, orderId);
        return found[0]?.status === 'voided' && found;
      },
      { timeoutMs: 20_000, what: 'the held money released by the reversal' },
    );
    expect(released.heldAmount).toBe(0);
    await waitFor(async () => (await followUpOf(client!, orderId))?.job_due_at === null, { what: 'the job done' });
    expect(await followUpOf(client, orderId)).toMatchObject({ status: 'DECLINED', follow_up: null });
  });
});
