/**
 * What the suite did, read where it is recorded rather than asked of the driver: order times and statuses from the
 * order database, money from the payment database, stock from the warehouse's, shipments from logistics', saga
 * instances from the orchestrator's; PostgreSQL's own counters (pg_stat_database, pg_stat_statements) and RabbitMQ's
 * (the management API's message_stats of the orderflow vhost). Every read goes through the profile's admin
 * credentials, never through a service.
 */
import pg from 'pg';
import type { ServiceName } from './processes.js';
import { SERVICES } from './processes.js';
import { sleep } from '../lib/stats.js';

export const TERMINAL = ['DELIVERED', 'CANCELLED'];

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** One admin connection per service database, and one to `postgres` for the server-wide views. */
export class Databases {
  private readonly clients = new Map<string, pg.Client>();

  constructor(
    private readonly adminUrl: string,
    /** Service → its database's name. */
    readonly names: Record<ServiceName, string>,
  ) {}

  async client(service: ServiceName | 'postgres'): Promise<pg.Client> {
    let client = this.clients.get(service);
    if (!client) {
      const database = service === 'postgres' ? 'postgres' : this.names[service];
      client = new pg.Client({ connectionString: withDatabase(this.adminUrl, database), application_name: 'bench' });
      await client.connect();
      this.clients.set(service, client);
    }
    return client;
  }

  /** Fresh, empty databases for the services (same names and owners), so every run starts alike. */
  async reset(): Promise<void> {
    const admin = await this.client('postgres');
    for (const service of SERVICES) {
      const database = this.names[service.name];
      const { rows } = await admin.query<{ owner: string }>(
        'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
        [database],
      );
      const owner = rows[0]?.owner;
      if (!owner) throw new Error(`database ${database} does not exist: run 'npm run bench' so it provisions it`);
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${database}" OWNER "${owner}"`);
      await admin.query(`REVOKE ALL ON DATABASE "${database}" FROM PUBLIC`);
    }
  }

  /** Whether statements can be counted: pg_stat_statements is preloaded in the bench profile's PostgreSQL. */
  async enableStatements(): Promise<boolean> {
    const admin = await this.client('postgres');
    try {
      await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await admin.query('SELECT count(*) FROM pg_stat_statements');
      return true;
    } catch {
      return false;
    }
  }

  async serverVersion(): Promise<string> {
    const { rows } = await (
      await this.client('postgres')
    ).query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version']);
    return rows[0].v;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.end().catch(() => undefined)));
    this.clients.clear();
  }
}

export interface DatabaseCounters {
  statements?: number;
  commits: number;
  rollbacks: number;
  inserted: number;
  updated: number;
  deleted: number;
  returned: number;
  fetched: number;
}

/** Counters per service database; statements are the services' own (the admin user's are left out). */
export async function databaseCounters(
  databases: Databases,
  statements: boolean,
): Promise<Record<ServiceName, DatabaseCounters>> {
  const admin = await databases.client('postgres');
  const names = Object.values(databases.names);
  const { rows } = await admin.query<{
    datname: string;
    xact_commit: string;
    xact_rollback: string;
    tup_inserted: string;
    tup_updated: string;
    tup_deleted: string;
    tup_returned: string;
    tup_fetched: string;
  }>(
    `SELECT datname, xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_returned, tup_fetched
     FROM pg_stat_database WHERE datname = ANY($1)`,
    [names],
  );
  const calls = new Map<string, number>();
  if (statements) {
    const result = await admin.query<{ datname: string; calls: string }>(
      `SELECT d.datname, sum(s.calls) AS calls FROM pg_stat_statements s
       JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = ANY($1) AND s.userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
       GROUP BY d.datname`,
      [names],
    );
    for (const row of result.rows) calls.set(row.datname, Number(row.calls));
  }
  const counters = {} as Record<ServiceName, DatabaseCounters>;
  for (const service of SERVICES) {
    const row = rows.find((r) => r.datname === databases.names[service.name]);
    counters[service.name] = {
      ...(statements && { statements: calls.get(databases.names[service.name]) ?? 0 }),
      commits: Number(row?.xact_commit ?? 0),
      rollbacks: Number(row?.xact_rollback ?? 0),
      inserted: Number(row?.tup_inserted ?? 0),
      updated: Number(row?.tup_updated ?? 0),
      deleted: Number(row?.tup_deleted ?? 0),
      returned: Number(row?.tup_returned ?? 0),
      fetched: Number(row?.tup_fetched ?? 0),
    };
  }
  return counters;
}

export interface DatabaseCostPerOrder {
  statements?: number;
  commits: number;
  rowsWritten: number;
  inserted: number;
  updated: number;
  deleted: number;
  tuplesRead: number;
}

export function databaseCostPerOrder(
  start: Record<ServiceName, DatabaseCounters>,
  end: Record<ServiceName, DatabaseCounters>,
  orders: number,
): Record<ServiceName, DatabaseCostPerOrder> {
  const per = (n: number) => Math.round((n / Math.max(1, orders)) * 100) / 100;
  const cost = {} as Record<ServiceName, DatabaseCostPerOrder>;
  for (const service of SERVICES) {
    const a = start[service.name];
    const b = end[service.name];
    const d = (k: keyof DatabaseCounters) => (b[k] ?? 0) - (a[k] ?? 0);
    cost[service.name] = {
      ...(b.statements !== undefined && { statements: per(d('statements')) }),
      commits: per(d('commits')),
      rowsWritten: per(d('inserted') + d('updated') + d('deleted')),
      inserted: per(d('inserted')),
      updated: per(d('updated')),
      deleted: per(d('deleted')),
      tuplesRead: per(d('returned') + d('fetched')),
    };
  }
  return cost;
}

/** The management API, with the profile's admin user. */
export class Broker {
  constructor(
    private readonly url: string,
    private readonly user: string,
    private readonly password: string,
    private readonly vhost = 'orderflow',
  ) {}

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}/api${path}`, { headers: { authorization: this.authorization() } });
    if (!res.ok) throw new Error(`RabbitMQ management GET ${path}: ${res.status}`);
    return (await res.json()) as T;
  }

  private authorization(): string {
    return `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
  }

  /**
   * Empties every queue of the vhost, dead-letter queues included: with the databases recreated empty, messages an
   * earlier run left behind name orders that no longer exist, and would be counted as this run's dead letters.
   */
  async purgeQueues(): Promise<number> {
    const queues = await this.get<{ name: string }[]>(`/queues/${encodeURIComponent(this.vhost)}?columns=name`);
    for (const { name } of queues) {
      const path = `/queues/${encodeURIComponent(this.vhost)}/${encodeURIComponent(name)}/contents`;
      const res = await fetch(`${this.url}/api${path}`, {
        method: 'DELETE',
        headers: { authorization: this.authorization() },
      });
      if (!res.ok) throw new Error(`RabbitMQ management DELETE ${path}: ${res.status}`);
    }
    return queues.length;
  }

  /** The vhost's cumulative message counters (publish, deliver_get, ack, redeliver, …). */
  async messageStats(): Promise<Record<string, number>> {
    const vhost = await this.get<{ message_stats?: Record<string, unknown> }>(
      `/vhosts/${encodeURIComponent(this.vhost)}`,
    );
    return Object.fromEntries(
      Object.entries(vhost.message_stats ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number'),
    );
  }

  /** Messages waiting or unacknowledged in the vhost's queues, and the dead-letter queues' depth. */
  async depth(): Promise<{ ready: number; unacked: number; deadLettered: number }> {
    const queues = await this.get<{ name: string; messages_ready?: number; messages_unacknowledged?: number }[]>(
      `/queues/${encodeURIComponent(this.vhost)}?columns=name,messages_ready,messages_unacknowledged`,
    );
    let ready = 0;
    let unacked = 0;
    let deadLettered = 0;
    for (const q of queues) {
      if (q.name.endsWith('.dlq')) deadLettered += (q.messages_ready ?? 0) + (q.messages_unacknowledged ?? 0);
      else {
        ready += q.messages_ready ?? 0;
        unacked += q.messages_unacknowledged ?? 0;
      }
    }
    return { ready, unacked, deadLettered };
  }

  async versions(): Promise<{ RabbitMQ: string; Erlang: string }> {
    const o = await this.get<{ rabbitmq_version: string; erlang_version: string }>('/overview');
    return { RabbitMQ: o.rabbitmq_version, Erlang: o.erlang_version };
  }
}

export function messagesPerOrder(
  start: Record<string, number>,
  end: Record<string, number>,
  orders: number,
): { published: number; delivered: number; acked: number; redelivered: number } {
  const per = (k: string) => Math.round((((end[k] ?? 0) - (start[k] ?? 0)) / Math.max(1, orders)) * 100) / 100;
  return { published: per('publish'), delivered: per('deliver_get'), acked: per('ack'), redelivered: per('redeliver') };
}

/** Waits until every order of the customer is terminal, or the deadline; returns how many are not. */
export async function drain(
  databases: Databases,
  customerId: string,
  deadlineMs: number,
  onProgress: (terminal: number, total: number) => void,
): Promise<number> {
  const orders = await databases.client('order');
  let lastReport = 0;
  for (;;) {
    const { rows } = await orders.query<{ total: number; terminal: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = ANY($2))::int AS terminal
       FROM orders WHERE customer_id = $1`,
      [customerId, TERMINAL],
    );
    const { total, terminal } = rows[0];
    if (terminal === total) return 0;
    if (Date.now() - lastReport > 10_000) {
      onProgress(terminal, total);
      lastReport = Date.now();
    }
    if (Date.now() >= deadlineMs) return total - terminal;
    await sleep(1_000);
  }
}

export interface OrderTimes {
  id: string;
  status: string;
  createdAt: number;
  confirmedAt?: number;
  deliveredAt?: number;
  total: number;
  quantity: number;
  repeatedStatus: boolean;
}

/** Each order of the customer: when it was placed (created_at) and when its history says it was confirmed and delivered. */
export async function orderTimes(databases: Databases, customerId: string): Promise<OrderTimes[]> {
  const orders = await databases.client('order');
  const { rows } = await orders.query<{
    id: string;
    status: string;
    created_at: Date;
    history: { status: string; at: string }[];
    total_amount: string;
    items: { quantity: number }[];
  }>(`SELECT id, status, created_at, history, total_amount, items FROM orders WHERE customer_id = $1`, [customerId]);
  return rows.map((r) => {
    const at = (status: string) => {
      const entry = r.history.find((h) => h.status === status);
      return entry ? Date.parse(entry.at) : undefined;
    };
    const statuses = r.history.map((h) => h.status);
    return {
      id: r.id,
      status: r.status,
      createdAt: r.created_at.getTime(),
      confirmedAt: at('CONFIRMED'),
      deliveredAt: at('DELIVERED'),
      total: Number(r.total_amount),
      quantity: r.items.reduce((n, i) => n + i.quantity, 0),
      repeatedStatus: new Set(statuses).size !== statuses.length,
    };
  });
}

export interface NetEffects {
  /** Orders the API accepted (2xx). */
  accepted: number;
  /** Orders of the phase in the order database (may exceed accepted when a request timed out after its commit). */
  recorded: number;
  /** Accepted, but not in the order database or never seen by the saga (no saga instance): the placement vanished. */
  lost: number;
  /** Not DELIVERED or CANCELLED when the drain deadline passed (the lost ones included). */
  stuck: number;
  byStatus: Record<string, number>;
  /** Orders with a second payment, reservation line, shipment, or a status recorded twice. */
  doubled: number;
  doubledBy: { payments: number; reservations: number; shipments: number; history: number };
  money: { captured: number; refunded: number; kept: number; ordersTotal: number; difference: number };
  stock: { onHandDecrease: number; reservedLeft: number; quantitySold: number; difference: number };
}

/** Net effects of one phase's orders, after draining. `sku` is the phase's own SKU, stocked at `onHand`. */
export async function netEffects(
  databases: Databases,
  acceptedIds: readonly string[],
  orders: readonly OrderTimes[],
  sku: string,
  onHand: number,
): Promise<NetEffects> {
  const ids = orders.map((o) => o.id);
  const recorded = new Set(ids);
  const saga = await databases.client('saga');
  const sagas = new Set(
    (
      await saga.query<{ id: string }>(
        'SELECT correlation_id::text AS id FROM saga_instances WHERE correlation_id = ANY($1::uuid[])',
        [acceptedIds],
      )
    ).rows.map((r) => r.id),
  );
  const payment = await databases.client('payment');
  const payments = (
    await payment.query<{ doubled: number; captured: string; refunded: string }>(
      `SELECT
         (SELECT count(*)::int FROM (SELECT order_id FROM payments WHERE order_id = ANY($1::uuid[])
                                     GROUP BY order_id HAVING count(*) > 1) d) AS doubled,
         coalesce(sum(amount) FILTER (WHERE status = 'CAPTURED'), 0) AS captured,
         coalesce(sum(amount) FILTER (WHERE status = 'REFUNDED'), 0) AS refunded
       FROM payments WHERE order_id = ANY($1::uuid[])`,
      [ids],
    )
  ).rows[0];
  const warehouse = await databases.client('warehouse');
  const reservations = (
    await warehouse.query<{ doubled: number }>(
      `SELECT count(*)::int AS doubled FROM (SELECT order_id FROM stock_reservation_lines
         WHERE order_id = ANY($1::uuid[]) GROUP BY order_id, sku HAVING count(*) > 1) d`,
      [ids],
    )
  ).rows[0];
  const stock = (
    await warehouse.query<{ on_hand: number; reserved: number }>(
      'SELECT on_hand, reserved FROM stock_items WHERE sku = $1',
      [sku],
    )
  ).rows[0] ?? { on_hand: onHand, reserved: 0 };
  const logistics = await databases.client('logistics');
  const shipments = (
    await logistics.query<{ doubled: number }>(
      `SELECT count(*)::int AS doubled FROM (SELECT order_id FROM shipments WHERE order_id = ANY($1::uuid[])
         GROUP BY order_id HAVING count(*) > 1) d`,
      [ids],
    )
  ).rows[0];

  const byStatus: Record<string, number> = {};
  for (const o of orders) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
  const kept = Number(payments.captured);
  const ordersTotal = orders
    .filter((o) => ['CONFIRMED', 'SHIPPED', 'DELIVERED'].includes(o.status))
    .reduce((n, o) => n + o.total, 0);
  const quantitySold = orders
    .filter((o) => ['SHIPPED', 'DELIVERED'].includes(o.status))
    .reduce((n, o) => n + o.quantity, 0);
  const history = orders.filter((o) => o.repeatedStatus).length;
  const doubledBy = {
    payments: payments.doubled,
    reservations: reservations.doubled,
    shipments: shipments.doubled,
    history,
  };
  return {
    accepted: acceptedIds.length,
    recorded: recorded.size,
    lost: acceptedIds.filter((id) => !recorded.has(id) || !sagas.has(id)).length,
    stuck:
      orders.filter((o) => !TERMINAL.includes(o.status)).length + acceptedIds.filter((id) => !recorded.has(id)).length,
    byStatus,
    doubled: payments.doubled + reservations.doubled + shipments.doubled + history,
    doubledBy,
    money: {
      captured: kept + Number(payments.refunded),
      refunded: Number(payments.refunded),
      kept,
      ordersTotal,
      difference: kept - ordersTotal,
    },
    stock: {
      onHandDecrease: onHand - stock.on_hand,
      reservedLeft: stock.reserved,
      quantitySold,
      difference: onHand - stock.on_hand - quantitySold,
    },
  };
}
