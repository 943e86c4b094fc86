/**
 * What must hold after a chaos run, read where each fact is recorded: the order, payment, warehouse, logistics and
 * saga databases (through the profile's admin credentials), the gateway's own books (its REST API, the third party's
 * truth), and the services' dead-letter queues (their operator REST API). Each check is one line of the verdict.
 */
import type { Databases } from '../bench/suite/measure.js';

export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

export interface RunFacts {
  /** Order ids the API accepted (201/200), each once. */
  accepted: readonly string[];
  /** Requests refused with a 4xx other than 429: valid orders should never be. */
  refused: readonly { status: number; body: string }[];
  /** The stock each SKU of the run started with. */
  stock: Readonly<Record<string, number>>;
  /** Processes that exited without the run killing them. */
  unexpectedExits: readonly string[];
  /** Seconds the drain waited, and its bound. */
  drainSeconds: number;
  drainBoundSeconds: number;
}

interface OrderRow {
  id: string;
  status: string;
  total_amount: string;
  items: { sku: string; quantity: number }[];
}

interface SagaRow {
  id: string;
  state: string;
  reason: string | null;
}

export const TERMINAL_STATUSES = ['DELIVERED', 'CANCELLED'];
export const PARKED_STATES = ['NeedsAttention', 'ShipmentNeedsAttention'];
const KEEPS_MONEY = ['CONFIRMED', 'SHIPPED', 'DELIVERED'];
const TOOK_STOCK = ['SHIPPED', 'DELIVERED'];

/** Orders not yet terminal nor parked with a reason: what the drain waits for. */
export async function unsettled(databases: Databases, ids: readonly string[]): Promise<number> {
  const orders = await (
    await databases.client('order')
  ).query<{ id: string }>('SELECT id::text FROM orders WHERE id = ANY($1::uuid[]) AND status = ANY($2)', [
    ids,
    TERMINAL_STATUSES,
  ]);
  const done = new Set(orders.rows.map((r) => r.id));
  const parked = await parkedSagas(
    databases,
    ids.filter((id) => !done.has(id)),
  );
  return ids.filter((id) => !done.has(id) && !parked.has(id)).length;
}

async function parkedSagas(databases: Databases, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await (
    await databases.client('saga')
  ).query<SagaRow>(
    `SELECT correlation_id::text AS id, state, data->'attention'->>'reason' AS reason
     FROM saga_instances WHERE correlation_id = ANY($1::uuid[]) AND state = ANY($2)`,
    [ids, PARKED_STATES],
  );
  return new Map(rows.filter((r) => r.reason).map((r) => [r.id, r.reason!]));
}

export async function checkRun(
  databases: Databases,
  facts: RunFacts,
  thirdParties: { gatewayUrl: string; serviceUrls: Record<string, string>; operatorToken: string },
): Promise<Check[]> {
  const ids = facts.accepted;
  const checks: Check[] = [];
  const check = (name: string, passed: boolean, detail: string) => checks.push({ name, passed, detail });

  const orders = (
    await (
      await databases.client('order')
    ).query<OrderRow>('SELECT id::text, status, total_amount, items FROM orders WHERE id = ANY($1::uuid[])', [ids])
  ).rows;
  const byId = new Map(orders.map((o) => [o.id, o]));
  const sagas = (
    await (
      await databases.client('saga')
    ).query<SagaRow>(
      `SELECT correlation_id::text AS id, state, data->'attention'->>'reason' AS reason
       FROM saga_instances WHERE correlation_id = ANY($1::uuid[])`,
      [ids],
    )
  ).rows;
  const sagaById = new Map(sagas.map((s) => [s.id, s]));

  const lost = ids.filter((id) => !byId.has(id) || !sagaById.has(id));
  check(
    'no order lost',
    lost.length === 0,
    `${ids.length} accepted; ${lost.length} missing from the order database or the saga${lost.length ? `: ${lost.slice(0, 5).join(', ')}` : ''}`,
  );

  check(
    'no valid order refused',
    facts.refused.length === 0,
    facts.refused.length
      ? facts.refused
          .slice(0, 3)
          .map((r) => `${r.status} ${r.body.slice(0, 120)}`)
          .join('; ')
      : 'none',
  );

  const byStatus: Record<string, number> = {};
  for (const o of orders) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
  const parked = sagas.filter((s) => PARKED_STATES.includes(s.state));
  const parkedWithoutReason = parked.filter((s) => !s.reason);
  const stuck = orders.filter((o) => !TERMINAL_STATUSES.includes(o.status) && !parked.some((p) => p.id === o.id));
  check(
    'every order terminal, or parked with a reason, within the drain bound',
    stuck.length === 0 && parkedWithoutReason.length === 0,
    `${JSON.stringify(byStatus)}; parked ${parked.length}${parked.length ? ` (${summarise(parked.map((p) => p.reason ?? 'no reason'))})` : ''}; ` +
      `stuck ${stuck.length}${
        stuck.length
          ? ` (${stuck
              .slice(0, 5)
              .map((o) => `${o.id} ${o.status} saga ${sagaById.get(o.id)?.state ?? '-'}`)
              .join(', ')})`
          : ''
      }; ` +
      `drained in ${facts.drainSeconds} s of ${facts.drainBoundSeconds}`,
  );

  // Money, as the payment service recorded it.
  const payments = (
    await (
      await databases.client('payment')
    ).query<{ order_id: string; status: string; amount: string }>(
      'SELECT order_id::text, status, amount FROM payments WHERE order_id = ANY($1::uuid[])',
      [ids],
    )
  ).rows;
  const paymentsPerOrder = new Map<string, number>();
  for (const p of payments) paymentsPerOrder.set(p.order_id, (paymentsPerOrder.get(p.order_id) ?? 0) + 1);
  const kept = payments.filter((p) => p.status === 'CAPTURED').reduce((n, p) => n + Number(p.amount), 0);
  const owed = orders.filter((o) => KEEPS_MONEY.includes(o.status)).reduce((n, o) => n + Number(o.total_amount), 0);
  check('money kept (payment service) = totals of the confirmed orders', kept === owed, `kept ${kept}, owed ${owed}`);

  // Money, as the gateway holds and keeps it: the third party's own books.
  let gatewayKept = 0;
  let gatewayHeld = 0;
  const keptTwice: string[] = [];
  for (const id of ids) {
    const res = await fetch(`${thirdParties.gatewayUrl}/v1/authorizations?reference=${id}`);
    const { authorizations } = (await res.json()) as { authorizations: { heldAmount: number; keptAmount: number }[] };
    gatewayHeld += authorizations.reduce((n, a) => n + a.heldAmount, 0);
    const k = authorizations.filter((a) => a.keptAmount > 0);
    if (k.length > 1) keptTwice.push(id);
    gatewayKept += k.reduce((n, a) => n + a.keptAmount, 0);
  }
  check(
    'money at the gateway: kept = totals of the confirmed orders, once; nothing left held',
    gatewayKept === owed && gatewayHeld === 0 && keptTwice.length === 0,
    `kept ${gatewayKept}, owed ${owed}, still held ${gatewayHeld}, orders charged twice ${keptTwice.length}`,
  );

  // Stock: never oversold, and what left the shelves is what was sold.
  const warehouse = await databases.client('warehouse');
  const stock = (
    await warehouse.query<{ sku: string; on_hand: number; reserved: number }>(
      'SELECT sku, on_hand, reserved FROM stock_items WHERE sku = ANY($1)',
      [Object.keys(facts.stock)],
    )
  ).rows;
  const sold: Record<string, number> = {};
  for (const o of orders.filter((o) => TOOK_STOCK.includes(o.status))) {
    for (const item of o.items) sold[item.sku] = (sold[item.sku] ?? 0) + item.quantity;
  }
  const stockLines = stock.map((s) => {
    const decrease = facts.stock[s.sku] - s.on_hand;
    return { ...s, decrease, sold: sold[s.sku] ?? 0 };
  });
  check(
    'stock never oversold; what left the shelves = what was sold; nothing left reserved',
    stockLines.length === Object.keys(facts.stock).length &&
      stockLines.every((s) => s.on_hand >= 0 && s.decrease === s.sold && s.reserved === 0),
    stockLines
      .map(
        (s) => `${s.sku}: on hand ${s.on_hand}, left the shelves ${s.decrease}, sold ${s.sold}, reserved ${s.reserved}`,
      )
      .join('; '),
  );

  // Nothing doubled: one payment, one reservation line per SKU, one shipment per order; no status twice.
  const reservations = (
    await warehouse.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM stock_reservation_lines WHERE order_id = ANY($1::uuid[])
         GROUP BY order_id, sku HAVING count(*) > 1) d`,
      [ids],
    )
  ).rows[0].n;
  const shipments = (
    await (
      await databases.client('logistics')
    ).query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM shipments WHERE order_id = ANY($1::uuid[])
         GROUP BY order_id HAVING count(*) > 1) d`,
      [ids],
    )
  ).rows[0].n;
  const history = (
    await (
      await databases.client('order')
    ).query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders o WHERE id = ANY($1::uuid[])
         AND (SELECT count(*) FROM jsonb_array_elements(o.history) h) <>
             (SELECT count(DISTINCT h->>'status') FROM jsonb_array_elements(o.history) h)`,
      [ids],
    )
  ).rows[0].n;
  const doubledPayments = [...paymentsPerOrder.values()].filter((n) => n > 1).length;
  check(
    'nothing doubled',
    doubledPayments + reservations + shipments + history === 0,
    `payments ${doubledPayments}, reservation lines ${reservations}, shipments ${shipments}, statuses ${history}`,
  );

  // Dead letters of this run's orders: each with the reason it was set aside.
  const deadLetters: { service: string; queue: string; reason?: string; type?: string }[] = [];
  const mine = new Set(ids);
  for (const [service, url] of Object.entries(thirdParties.serviceUrls)) {
    const auth = { authorization: `Bearer ${thirdParties.operatorToken}` };
    const summary = (await (await fetch(`${url}/dead-letters`, { headers: auth })).json()) as {
      queue: string;
      messages: number;
    }[];
    for (const q of summary.filter((s) => s.messages > 0)) {
      const letters = (await (await fetch(`${url}/dead-letters/${q.queue}?limit=500`, { headers: auth })).json()) as {
        correlationId?: string;
        reason?: string;
        type?: string;
      }[];
      for (const l of letters) {
        if (l.correlationId && mine.has(l.correlationId)) deadLetters.push({ service, queue: q.queue, ...l });
      }
    }
  }
  check(
    'every dead letter accounted for with its reason',
    deadLetters.every((d) => d.reason),
    deadLetters.length
      ? summarise(deadLetters.map((d) => `${d.queue} ${d.type ?? '?'}: ${d.reason ?? 'NO REASON'}`))
      : 'none',
  );

  check(
    'no process died unless the run killed it',
    facts.unexpectedExits.length === 0,
    facts.unexpectedExits.length ? facts.unexpectedExits.join(', ') : 'none',
  );
  return checks;
}

function summarise(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts.entries()].map(([item, n]) => `${n} × ${item}`).join('; ');
}
