// Losing a RabbitMQ node mid-flow. On the three-node cluster of the test profile (npm run chaos:cluster, which starts
// it with ORDERFLOW_RABBITMQ_NODES=3), the five services and both simulators run, orders are placed at a steady rate,
// and the Erlang VM of the node leading the busiest quorum queues is killed with SIGKILL — no goodbye to its clients,
// its queue members or its peers. Orders keep being placed. Then: every accepted order must reach DELIVERED, once,
// with money and stock to match; how long the flow stood still is measured from the orders' own histories; and the
// killed node, started again from its data, must rejoin the cluster and its queues.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ORDERFLOW_ROUTING } from '@orderflow/contracts';
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import {
  asOperator,
  bearer,
  createMerchant,
  RabbitMqManagement,
  ServiceProcess,
  simulatorPorts,
  SimulatorProcess,
  type TestMerchant,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NODES = Number(process.env.RABBITMQ_NODES ?? 1);
const ORDERS_PER_SECOND = 4;
const PLACING_BEFORE_KILL_MS = 10_000;
const PLACING_AFTER_KILL_MS = 20_000;
const QUANTITY = 1;
const UNIT_PRICE = 1250;

const ports = simulatorPorts();
const gateway = new SimulatorProcess('payment-gateway', ports.paymentGateway);
const carrier = new SimulatorProcess('carrier', ports.carrier, { DELIVERY_DELAY_MS: '300' });
const services = {} as Record<ServiceName, ServiceProcess>;
const management = new RabbitMqManagement();
let merchant: TestMerchant;

type Order = { orderId: string; status: string; totalAmount: number; history: { status: string; at: string }[] };
type Queue = {
  name: string;
  leader?: string;
  members?: string[];
  online?: string[];
  message_stats?: { publish?: number };
};

async function json<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  return { status: res.status, body: (await res.json()) as T };
}

const orderflowQueues = async () =>
  (await management.get<Queue[]>('/queues/orderflow')).filter((q) =>
    ORDERFLOW_ROUTING.queues.some((r) => r.name === q.name),
  );

/** The node leading the queues that have carried the most messages: the one whose loss costs the flow most. */
async function busiestLeader(): Promise<{ node: string; published: number; queues: string[] }> {
  const byLeader = new Map<string, { published: number; queues: string[] }>();
  for (const q of await orderflowQueues()) {
    if (!q.leader) continue;
    const entry = byLeader.get(q.leader) ?? { published: 0, queues: [] };
    entry.published += q.message_stats?.publish ?? 0;
    entry.queues.push(q.name);
    byLeader.set(q.leader, entry);
  }
  const [node, entry] = [...byLeader].sort(([, a], [, b]) => b.published - a.published)[0];
  return { node, ...entry };
}

/** rabbit-<i>-<profile>@host runs with its pid file in the state folder (scripts/lib/infra.sh). */
function nodeIndex(node: string): number {
  const match = /^rabbit-(\d+)-/.exec(node);
  if (!match) throw new Error(`${node} is not a node of the local cluster`);
  return Number(match[1]);
}

function erlangVmOf(index: number): number {
  const stateDir = process.env.ORDERFLOW_TEST_STATE_DIR;
  if (!stateDir) throw new Error('ORDERFLOW_TEST_STATE_DIR is not set: run through npm run chaos:cluster');
  const pid = Number(readFileSync(join(stateDir, 'run', `rabbit-${index}.pid`), 'utf8').trim());
  const command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (command !== 'beam.smp') throw new Error(`pid ${pid} of rabbit-${index} is ${command}, not the Erlang VM`);
  return pid;
}

/** The node this run killed and has not started again: afterAll starts it, so a failed run leaves the cluster whole. */
let killed: number | undefined;

async function startNode(index: number): Promise<void> {
  await promisify(execFile)('bash', ['scripts/broker-ctl.sh', 'start-node', String(index)], {
    env: { ...process.env, ORDERFLOW_PROFILE: 'test' },
  });
  killed = undefined;
}

/** Places one order a tick until told to stop; every answer is kept, accepted or not. */
function placeSteadily(sku: string) {
  const answers: { status: number; orderId?: string }[] = [];
  let stopped = false;
  let turn = 0;
  const inFlight = new Set<Promise<void>>();
  const place = async () => {
    const key = randomUUID();
    const answer = await json<{ orderId: string }>(`${services.order.url}/orders`, {
      method: 'POST',
      headers: { ...bearer(merchant.apiKey), 'idempotency-key': key },
      body: JSON.stringify({
        customerId: `chaos-${(turn += 1)}`,
        currency: 'EUR',
        items: [{ sku, quantity: QUANTITY, unitPrice: UNIT_PRICE }],
        payment: { method: 'card', token: 'tok_ok' },
        shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Leeds', postalCode: 'LS1 1AA', country: 'GB' },
      }),
    }).catch(() => ({ status: 0, body: undefined }));
    answers.push({ status: answer.status, orderId: answer.body?.orderId });
  };
  const loop = (async () => {
    while (!stopped) {
      const p = place().finally(() => inFlight.delete(p));
      inFlight.add(p);
      await new Promise((resolve) => setTimeout(resolve, 1000 / ORDERS_PER_SECOND));
    }
    await Promise.all(inFlight);
  })();
  return {
    answers,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** The longest stretch after `from` in which no order changed status: how long the flow stood still. */
function longestStandstillSeconds(orders: Order[], from: number): number {
  const changes = orders
    .flatMap((o) => o.history.slice(1).map((h) => Date.parse(h.at)))
    .filter((at) => at >= from)
    .sort((a, b) => a - b);
  let longest = changes.length > 0 ? changes[0] - from : 0;
  for (let i = 1; i < changes.length; i += 1) longest = Math.max(longest, changes[i] - changes[i - 1]);
  return longest / 1000;
}

beforeAll(async () => {
  if (NODES < 3) throw new Error('needs the three-node cluster: run it with npm run chaos:cluster');
  for (const queue of ORDERFLOW_ROUTING.queues) await management.delete(`/queues/orderflow/${queue.name}/contents`);
  await gateway.start();
  await carrier.start();
  for (const service of SERVICE_NAMES) {
    services[service] = new ServiceProcess(service, {
      RATE_LIMIT_REQUESTS: '1000000',
      ...(service === 'payment' && { PAYMENT_GATEWAY_URL: gateway.url }),
      ...(service === 'logistics' && { CARRIER_URL: carrier.url }),
    });
  }
  const all = Object.values(services);
  all.forEach((p) => p.start());
  await Promise.all(all.map((p) => p.waitReady(120_000)));
  merchant = await createMerchant(services.order.url, 'Chaos');
}, 180_000);

afterAll(async () => {
  if (killed !== undefined) await startNode(killed);
  await Promise.all(Object.values(services).map((p) => p.stop().catch(() => p.kill())));
  await gateway.stop();
  await carrier.stop();
});

describe(`a ${NODES}-node RabbitMQ cluster losing the node that leads the busiest queues mid-flow`, () => {
  it('replicates every quorum queue on every node', async () => {
    const queues = await orderflowQueues();
    expect(queues.map((q) => q.name).sort()).toEqual(ORDERFLOW_ROUTING.queues.map((q) => q.name).sort());
    for (const q of queues) expect(q.members?.length, q.name).toBe(NODES);
  });

  it('delivers every accepted order once, with money and stock to match, and takes the node back', async () => {
    const sku = `CHAOS-${randomUUID().slice(0, 8)}`;
    const onHand = 10_000;
    const put = await json(`${services.warehouse.url}/stock/${sku}`, {
      method: 'PUT',
      headers: asOperator(),
      body: JSON.stringify({ onHand }),
    });
    expect(put.status).toBe(200);

    const placing = placeSteadily(sku);
    await new Promise((resolve) => setTimeout(resolve, PLACING_BEFORE_KILL_MS));
    const victim = await busiestLeader();
    const index = nodeIndex(victim.node);
    const killedAt = Date.now();
    process.kill(erlangVmOf(index), 'SIGKILL');
    killed = index;
    await new Promise((resolve) => setTimeout(resolve, PLACING_AFTER_KILL_MS));
    await placing.stop();

    const accepted = placing.answers.filter((a) => a.status === 202 && a.orderId).map((a) => a.orderId!);
    const refused = placing.answers.length - accepted.length;
    expect(accepted.length).toBeGreaterThan(0);

    // Nothing lost: every accepted order is there and reaches the end it would have reached without the kill. The
    // orders still open at the deadline are counted (and asserted on below) rather than failing on the first one.
    const ended = new Map<string, Order>();
    await waitFor(
      async () => {
        const open = accepted.filter((orderId) => !ended.has(orderId));
        for (const orderId of open) {
          const { status, body } = await json<Order>(`${services.order.url}/orders/${orderId}`, {
            headers: bearer(merchant.apiKey),
          });
          if (status === 200 && ['DELIVERED', 'CANCELLED'].includes(body.status)) ended.set(orderId, body);
        }
        return ended.size === accepted.length;
      },
      { timeoutMs: 180_000, intervalMs: 1_000, what: 'every accepted order to end' },
    ).catch(() => false);
    const lost = accepted.filter((orderId) => ended.get(orderId)?.status !== 'DELIVERED');

    // Nothing doubled: each order's total captured exactly once.
    const doubled: string[] = [];
    for (const order of ended.values()) {
      const { body: payments } = await json<{ status: string; amount: number }[]>(
        `${services.payment.url}/payments?orderId=${order.orderId}`,
        { headers: asOperator() },
      );
      const captured = payments.filter((p) => p.status === 'CAPTURED');
      if (captured.length !== 1 || captured[0].amount !== order.totalAmount) doubled.push(order.orderId);
    }
    const { body: stock } = await json<{ onHand: number; reserved: number }>(`${services.warehouse.url}/stock/${sku}`, {
      headers: asOperator(),
    });

    const standstill = longestStandstillSeconds([...ended.values()], killedAt);
    console.log(
      [
        `killed ${victim.node} (pid of its beam.smp), leader of ${victim.queues.join(', ')} (${victim.published} messages published)`,
        `orders: ${placing.answers.length} placed, ${accepted.length} accepted, ${refused} refused`,
        `delivered: ${accepted.length - lost.length}, lost (not delivered): ${lost.length}, doubled: ${doubled.length}`,
        `flow stood still for at most ${standstill.toFixed(1)} s after the kill`,
      ].join('\n'),
    );

    expect(lost).toEqual([]);
    expect(doubled).toEqual([]);
    expect(stock).toMatchObject({ onHand: onHand - QUANTITY * accepted.length, reserved: 0 });

    // The killed node, started again from its data, rejoins: running, and a member online in every queue again.
    await startNode(index);
    const rejoined = await waitFor(
      async () => {
        const nodes = await management.get<{ name: string; running: boolean }[]>('/nodes');
        const queues = await orderflowQueues();
        const back = nodes.find((n) => n.name === victim.node)?.running;
        return back && queues.every((q) => q.online?.includes(victim.node)) && queues;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: `${victim.node} to rejoin its queues` },
    );
    for (const q of rejoined) expect(q.online, q.name).toHaveLength(NODES);
  }, 420_000);
});
