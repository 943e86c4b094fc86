/**
 * The chaos suite: orders flow at a steady rate through `POST /orders` while faults are injected at random (see
 * faults.ts), then the run drains and checks (checks.ts) that every order ended right, once, with money and stock
 * exact. One engine behind `npm run chaos` (long runs, own profile) and the short run inside `npm test`.
 *
 * The placement client behaves as a merchant's should: each order has one Idempotency-Key, and a request that got no
 * answer or a 5xx (the order service killed, the database restarting, load shed) is sent again with the same key,
 * after Retry-After when given, for up to PLACEMENT_PATIENCE_MS — so an order the service committed but could not
 * answer is not placed twice, and one it never took is not counted as lost.
 */
import { randomUUID } from 'node:crypto';
import { type Databases } from '../bench/suite/measure.js';
import { SERVICES, type SimulatorName, Suite } from '../bench/suite/processes.js';
import { type Check, checkRun, unsettled } from './checks.js';
import { type FaultKind, faultSequence, inject, type InjectedFault, seededRandom } from './faults.js';

const PLACEMENT_PATIENCE_MS = 120_000;
const REQUEST_TIMEOUT_MS = 10_000;
const LINE_PRICE = 1_250;
/** How orders pay: mostly at once, some through the gateway's failures and asynchronous results, some declined. */
const TOKENS: readonly [token: string, share: number][] = [
  ['tok_ok', 0.7],
  ['tok_flaky', 0.1],
  ['tok_async', 0.1],
  ['tok_declined', 0.1],
];
/** A tenth of the orders want a scarce SKU, stocked for half of them: out-of-stock cancellations under chaos. */
const SCARCE_SHARE = 0.1;

export interface ChaosOptions {
  orders: number;
  /** Orders per second offered. */
  rate: number;
  faultEverySeconds: number;
  faults: readonly FaultKind[];
  seed: number;
  replicas: number;
  /** Share of the third parties' webhooks never sent (their WEBHOOK_DROP_RATE). */
  webhookDropRate: number;
  /** After the load, how long every order has to end (or park with a reason). */
  drainSeconds: number;
  meddleSeconds: number;
  carrierDeliveryDelayMs: number;
  /** Settings given to every service (e.g. shorter poll intervals for a short run). */
  serviceEnv: Record<string, string>;
  suite: { appsRoot: string; httpPortBase: number; logDir: string; runDir: string; stateDir: string };
  operatorToken: string;
  amqpAdminUrl: string;
  /** Each service's AMQP URL, by service name (the meddler's way back into a queue). */
  amqpUrls: Readonly<Record<string, string>>;
}

export interface ChaosReport {
  seed: number;
  orders: { offered: number; accepted: number; retriedRequests: number; tokens: Record<string, number> };
  injected: InjectedFault[];
  loadSeconds: number;
  drainSeconds: number;
  checks: Check[];
  passed: number;
  failed: number;
}

interface Placement {
  orderId?: string;
  attempts: number;
  refused?: { status: number; body: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(
  options: ChaosOptions,
  databases: Databases,
  log: (line: string) => void,
): Promise<ChaosReport> {
  const random = seededRandom(options.seed);
  const runId = `${Date.now().toString(36)}-${options.seed}`;
  const stateFiles: Partial<Record<SimulatorName, Record<string, string>>> = {
    'payment-gateway': {
      WEBHOOK_DROP_RATE: String(options.webhookDropRate),
      STATE_FILE: `${options.suite.stateDir}/chaos-payment-gateway-${runId}.json`,
    },
    carrier: {
      WEBHOOK_DROP_RATE: String(options.webhookDropRate),
      STATE_FILE: `${options.suite.stateDir}/chaos-carrier-${runId}.json`,
    },
  };
  const suite = new Suite({
    ...options.suite,
    replicas: options.replicas,
    deliveryDelayMs: options.carrierDeliveryDelayMs,
    label: 'chaos',
    env: {
      ...stateFiles,
      ...Object.fromEntries(SERVICES.map((s) => [s.name, options.serviceEnv])),
    },
  });
  const injected: InjectedFault[] = [];
  const unexpectedExits: string[] = [];
  try {
    log(`starting the suite (${options.replicas} replica${options.replicas > 1 ? 's' : ''} of every service)`);
    suite.migrate();
    await suite.start();
    const operator = { authorization: `Bearer ${options.operatorToken}`, 'content-type': 'application/json' };
    const merchantRes = await fetch(`${suite.url('order')}/merchants`, {
      method: 'POST',
      headers: operator,
      body: JSON.stringify({ name: `Chaos merchant ${runId}` }),
    });
    if (!merchantRes.ok) throw new Error(`creating the merchant: ${merchantRes.status} ${await merchantRes.text()}`);
    const { apiKey } = (await merchantRes.json()) as { apiKey: string };
    const skus = { plenty: `CHAOS-${runId}-PLENTY`, scarce: `CHAOS-${runId}-SCARCE` };
    const stock = {
      [skus.plenty]: options.orders * 2,
      [skus.scarce]: Math.max(1, Math.round((options.orders * SCARCE_SHARE) / 2)),
    };
    for (const [sku, onHand] of Object.entries(stock)) {
      const res = await fetch(`${suite.url('warehouse')}/stock/${sku}`, {
        method: 'PUT',
        headers: operator,
        body: JSON.stringify({ onHand }),
      });
      if (!res.ok) throw new Error(`stocking ${sku}: ${res.status} ${await res.text()}`);
    }

    // A process that exits on its own is a finding; it is started again so the run goes on.
    let stopping = false;
    const watchdog = (async () => {
      while (!stopping) {
        for (const label of suite.dead()) {
          unexpectedExits.push(label);
          log(`!! ${label} exited without being killed; starting it again`);
          await suite.restart(label, 'SIGKILL', 0).catch((err: Error) => log(`!! ${label}: ${err.message}`));
        }
        await sleep(500);
      }
    })();

    const tokens: Record<string, number> = {};
    const orderUrls = Array.from({ length: options.replicas }, (_, r) => suite.url('order', r));
    const place = async (n: number): Promise<Placement> => {
      let pick = random();
      const [token] = TOKENS.find(([, share]) => (pick -= share) < 0) ?? TOKENS[0];
      tokens[token] = (tokens[token] ?? 0) + 1;
      const sku = random() < SCARCE_SHARE ? skus.scarce : skus.plenty;
      const body = JSON.stringify({
        customerId: `chaos-${runId}`,
        currency: 'EUR',
        items: [{ sku, quantity: 1, unitPrice: LINE_PRICE }],
        payment: { method: 'card', token },
        shippingAddress: {
          name: 'Chaos Customer',
          line1: '1 Fault Lane',
          city: 'Leeds',
          postalCode: 'LS1 1AA',
          country: 'GB',
        },
      });
      const key = randomUUID();
      const giveUpAt = Date.now() + PLACEMENT_PATIENCE_MS;
      for (let attempt = 1; ; attempt++) {
        let status = 0;
        let text = '';
        let retryAfter: string | null = null;
        try {
          const res = await fetch(`${orderUrls[(n + attempt) % orderUrls.length]}/orders`, {
            method: 'POST',
            headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': key },
            body,
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          status = res.status;
          text = await res.text();
          retryAfter = res.headers.get('retry-after');
        } catch {
          // No answer: the service is down or restarting.
        }
        if (status >= 200 && status < 300)
          return { orderId: (JSON.parse(text) as { orderId: string }).orderId, attempts: attempt };
        const again = status === 0 || status === 429 || status >= 500;
        if (!again) return { attempts: attempt, refused: { status, body: text } };
        if (Date.now() > giveUpAt) return { attempts: attempt };
        const seconds = Number(retryAfter);
        await sleep(Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 5) * 1_000 : 1_000);
      }
    };

    log(`placing ${options.orders} orders at ${options.rate}/s; a fault every ${options.faultEverySeconds} s`);
    const loadStart = Date.now();
    let loadDone = false;
    // Faults go on while orders are placed, and after that until every kind was injected once (a short run meets
    // them all; the orders still in flight meet the last ones).
    const faults = (async () => {
      const next = faultSequence(options.faults, random);
      const firstRoundDone = () => options.faults.every((k) => injected.some((f) => f.kind === k));
      while (!loadDone || !firstRoundDone()) {
        await sleep(options.faultEverySeconds * 1_000 * (0.5 + random()));
        const kind = next();
        const at = (Date.now() - loadStart) / 1_000;
        const began = Date.now();
        try {
          const { target, detail } = await inject(kind, {
            suite,
            random,
            amqpAdminUrl: options.amqpAdminUrl,
            amqpUrls: options.amqpUrls,
            meddleSeconds: options.meddleSeconds,
          });
          const fault: InjectedFault = {
            kind,
            target,
            at: round(at),
            seconds: round((Date.now() - began) / 1_000),
            ...(detail && { detail }),
          };
          injected.push(fault);
          log(`${fault.at.toFixed(1)} s  ${kind}: ${target} (${fault.seconds} s)${detail ? ` ${detail}` : ''}`);
        } catch (err) {
          injected.push({
            kind,
            target: 'FAILED TO INJECT',
            at: round(at),
            seconds: 0,
            detail: (err as Error).message,
          });
          log(`${at.toFixed(1)} s  ${kind}: could not inject: ${(err as Error).message}`);
        }
      }
    })();
    const pending: Promise<Placement>[] = [];
    for (let n = 0; n < options.orders; n++) {
      const due = loadStart + (n * 1_000) / options.rate;
      if (due > Date.now()) await sleep(due - Date.now());
      pending.push(place(n));
    }
    const placements = await Promise.all(pending);
    loadDone = true;
    const loadSeconds = round((Date.now() - loadStart) / 1_000);
    await faults;
    const accepted = [...new Set(placements.flatMap((p) => (p.orderId ? [p.orderId] : [])))];
    log(
      `${accepted.length} of ${options.orders} accepted in ${loadSeconds} s; draining (at most ${options.drainSeconds} s)`,
    );

    const drainStart = Date.now();
    let left = accepted.length;
    let lastReport = 0;
    while (Date.now() - drainStart < options.drainSeconds * 1_000) {
      left = await unsettled(databases, accepted);
      if (left === 0) break;
      if (Date.now() - lastReport > 10_000) {
        log(`  ${accepted.length - left} of ${accepted.length} ended`);
        lastReport = Date.now();
      }
      await sleep(1_000);
    }
    const drainSeconds = round((Date.now() - drainStart) / 1_000);
    stopping = true;
    await watchdog;

    const checks = await checkRun(
      databases,
      {
        accepted,
        refused: placements.flatMap((p) => (p.refused ? [p.refused] : [])),
        stock,
        unexpectedExits,
        drainSeconds,
        drainBoundSeconds: options.drainSeconds,
      },
      {
        gatewayUrl: `http://127.0.0.1:${options.suite.httpPortBase + 10}`,
        serviceUrls: Object.fromEntries(SERVICES.map((s) => [s.name, suite.url(s.name)])),
        operatorToken: options.operatorToken,
      },
    );
    const missed = options.faults.filter((k) => !injected.some((f) => f.kind === k && f.target !== 'FAILED TO INJECT'));
    checks.push({
      name: 'every kind of fault injected at least once',
      passed: missed.length === 0,
      detail: missed.length ? `not injected: ${missed.join(', ')}` : `${injected.length} faults`,
    });
    const passed = checks.filter((c) => c.passed).length;
    return {
      seed: options.seed,
      orders: {
        offered: options.orders,
        accepted: accepted.length,
        retriedRequests: placements.reduce((n, p) => n + p.attempts - 1, 0),
        tokens,
      },
      injected,
      loadSeconds,
      drainSeconds,
      checks,
      passed,
      failed: checks.length - passed,
    };
  } finally {
    await suite.stop().catch(() => suite.kill());
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

export function formatReport(report: ChaosReport): string {
  const lines = [
    `seed ${report.seed}: ${report.orders.accepted} of ${report.orders.offered} orders accepted ` +
      `(${report.orders.retriedRequests} requests sent again), load ${report.loadSeconds} s, drain ${report.drainSeconds} s`,
    `payment tokens: ${Object.entries(report.orders.tokens)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}`,
    `injected (${report.injected.length}):`,
    ...report.injected.map((f) => `  ${f.at.toFixed(1).padStart(6)} s  ${f.kind}: ${f.target} (${f.seconds} s)`),
    'checks:',
    ...report.checks.map((c) => `  ${c.passed ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`),
    `${report.passed} passed, ${report.failed} failed`,
  ];
  return lines.join('\n');
}
