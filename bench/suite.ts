/**
 * `npm run bench -- suite`: the whole product under load. The five services and both simulators on the bench
 * profile's PostgreSQL and RabbitMQ, driven only through the public REST API by a load generator of its own: the
 * peak it carries to CONFIRMED and DELIVERED, latency paced below it, what it does above it, what each order costs
 * (CPU per component, database work, messages) and the net effects counted in the databases. Prints one JSON line
 * and appends a section to bench/RESULTS.md. How each figure is measured: suite/report.ts (METHOD).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CpuWatch } from './lib/cpu.js';
import { env as required, gitCommit, machineLine, packageVersion, RESULTS_FILE, ROOT } from './lib/environment.js';
import { appendResults } from './lib/results.js';
import { percentiles, round, sleep } from './lib/stats.js';
import { closedLoop, OrderClient, type OrderLine, openLoop, type Placement } from './suite/load.js';
import {
  Broker,
  databaseCostPerOrder,
  databaseCounters,
  Databases,
  databaseOf,
  drain,
  messagesPerOrder,
  netEffects,
  orderTimes,
} from './suite/measure.js';
import { SERVICES, type ServiceName, Suite } from './suite/processes.js';
import {
  answersOf,
  type Component,
  COMPONENTS,
  cpuPerOrder,
  isDisturbed,
  latencies,
  markdownSection,
  METHOD,
  type PhaseKind,
  type PhaseResult,
  summarise,
  type SuiteEnvironment,
  trimmedRate,
} from './suite/report.js';

const USAGE = `usage: npm run bench -- suite [options]
  --phases LIST            comma-separated: peak,paced,overload (all); peak runs first, the others are fractions of it
  --orders N               peak: orders to place at least (10000)
  --peak-min-seconds N     peak: seconds to keep placing at least (60)
  --clients N              peak: closed-loop clients, each waiting for its answer (32)
  --peak RATE              orders/s the fractions apply to; skips the peak phase
  --paced LIST             paced phases: fractions of the peak (0.25,0.5,0.75), or rates as N/s (e.g. 20/s)
  --paced-seconds N        each paced phase's length (60)
  --overload FRACTION      overload: fraction of the peak (1.5), or a rate as N/s
  --overload-seconds N     overload's length (60)
  --arrivals KIND          open loop arrivals: poisson or fixed (poisson)
  --connections N          open loop: HTTP connections at most, over the order replicas (64)
  --replicas N             processes of every service (1); the second on HTTP port base + offset + 20
  --delivery-delay-ms N    the carrier simulator's DELIVERY_DELAY_MS, ≥ 1 (200: after the booking has committed)
  --drain-seconds N        after each phase, how long to wait for every order to be terminal (600)
  --keep-data              keep the services' databases instead of recreating them empty
  --no-record              print the JSON line only; do not append to bench/RESULTS.md
  --cpu-prof DIR           write a V8 CPU profile of every service and simulator to DIR (<label>.cpuprofile), for
                           finding where a component's CPU goes; profiling costs CPU, so such a run is not recorded

The services and simulators measured are this checkout's, built by the bench. To measure other code with this
driver (a baseline at an older commit), build it in its own checkout (git worktree add ../base a75c280; cd ../base;
npm ci or a node_modules symlink; npm run build) and run from this one:
  ORDERFLOW_BENCH_APPS_ROOT=/path/to/base npm run bench -- suite
Its dist/ (services, simulators, their migrations) is then started as it is, never rebuilt.`;

const STOCK = 100_000_000;
/** PostgreSQL flushes an idle backend's counters within 10 s; the broker refreshes its statistics every 5 s. */
const STATS_SETTLE_MS = 11_000;
const LINE_PRICE = 2_500;

function options() {
  const { values } = parseArgs({
    options: {
      phases: { type: 'string', default: 'peak,paced,overload' },
      orders: { type: 'string', default: '10000' },
      'peak-min-seconds': { type: 'string', default: '60' },
      clients: { type: 'string', default: '32' },
      peak: { type: 'string' },
      paced: { type: 'string', default: '0.25,0.5,0.75' },
      'paced-seconds': { type: 'string', default: '60' },
      overload: { type: 'string', default: '1.5' },
      'overload-seconds': { type: 'string', default: '60' },
      arrivals: { type: 'string', default: 'poisson' },
      connections: { type: 'string', default: '64' },
      replicas: { type: 'string', default: '1' },
      'delivery-delay-ms': { type: 'string', default: '200' },
      'drain-seconds': { type: 'string', default: '600' },
      'keep-data': { type: 'boolean', default: false },
      'no-record': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: keyof typeof values, min: number, integer = true) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, not ${String(values[name])}`);
    }
    return n;
  };
  const target = (text: string, name: string): { fraction?: number; rate?: number } => {
    const rate = /^(\d+(?:\.\d+)?)\/s$/.exec(text);
    const n = Number(rate ? rate[1] : text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: ${text} is neither a fraction nor N/s`);
    return rate ? { rate: n } : { fraction: n };
  };
  const phases = values.phases.split(',').filter(Boolean);
  const unknown = phases.filter((p) => !['peak', 'paced', 'overload'].includes(p));
  if (unknown.length) throw new Error(`--phases: unknown ${unknown.join(', ')} (known: peak, paced, overload)`);
  if (!['poisson', 'fixed'].includes(values.arrivals)) throw new Error('--arrivals must be poisson or fixed');
  const peak = values.peak === undefined ? undefined : num('peak', 0.1, false);
  const paced = values.paced
    .split(',')
    .filter(Boolean)
    .map((t) => target(t, 'paced'));
  const overload = target(values.overload, 'overload');
  const needsPeak = [...(phases.includes('paced') ? paced : []), ...(phases.includes('overload') ? [overload] : [])];
  if (peak === undefined && !phases.includes('peak') && needsPeak.some((t) => t.fraction !== undefined)) {
    throw new Error('fractions of the peak need the peak phase or --peak <rate>');
  }
  return {
    phases: peak === undefined ? phases : phases.filter((p) => p !== 'peak'),
    orders: num('orders', 1),
    peakMinSeconds: num('peak-min-seconds', 0),
    clients: num('clients', 1),
    peak,
    paced,
    pacedSeconds: num('paced-seconds', 1),
    overload,
    overloadSeconds: num('overload-seconds', 1),
    arrivals: values.arrivals as 'poisson' | 'fixed',
    connections: num('connections', 1),
    replicas: num('replicas', 1),
    deliveryDelayMs: num('delivery-delay-ms', 200),
    drainSeconds: num('drain-seconds', 1),
    keepData: values['keep-data'],
    record: !values['no-record'] && values['cpu-prof'] === undefined,
    cpuProfileDir: values['cpu-prof'],
  };
}

type Options = ReturnType<typeof options>;

function optionsOrUsage(): Options {
  try {
    return options();
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const env = (name: string) => required(name, 'suite');
const log = (message: string) => console.error(`    ${message}`);

async function http(method: string, url: string, token: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

async function main(): Promise<void> {
  const opts = optionsOrUsage();
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const appsRoot = (process.env.ORDERFLOW_BENCH_APPS_ROOT ?? ROOT).replace(/\/?$/, '/');
  const stateDir = process.env.ORDERFLOW_STATE_DIR ?? `${ROOT}.orderflow/bench`;
  const suite = new Suite({
    appsRoot: appsRoot.replace(/\/$/, ''),
    replicas: opts.replicas,
    httpPortBase: Number(env('ORDER_PORT')),
    deliveryDelayMs: opts.deliveryDelayMs,
    logDir: process.env.LOG_DIR ?? `${stateDir}/logs`,
    runDir: process.env.RUN_DIR ?? `${stateDir}/run`,
    cpuProfileDir: opts.cpuProfileDir,
  });
  const names = Object.fromEntries(
    SERVICES.map((s) => [s.name, databaseOf(env(`${s.name.toUpperCase()}_DATABASE_URL`))]),
  ) as Record<ServiceName, string>;
  const databases = new Databases(env('PG_ADMIN_URL'), names);
  const broker = new Broker(env('RABBITMQ_MANAGEMENT_URL'), env('RABBITMQ_ADMIN_USER'), env('RABBITMQ_ADMIN_PASSWORD'));
  const operatorToken = env('ORDERFLOW_OPERATOR_TOKEN');
  const cpu = new CpuWatch<Component>(stateDir, () => {
    const pids = suite.pids();
    // The driver last: the services and simulators are its children, already counted in their own groups.
    return Object.fromEntries(COMPONENTS.map((c) => [c, c === 'driver' ? [process.pid] : (pids[c] ?? [])])) as Record<
      Component,
      number[]
    >;
  });

  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await suite.stop().catch(() => suite.kill());
      await databases.close();
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      suite.kill();
      process.exit(130);
    });
  }

  const startLoad = loadavg()[0];
  const idleStart = cpu.sample();
  await sleep(2_000);
  const busyBefore = cpu.since(idleStart).machine;
  const phases: PhaseResult[] = [];
  let peakRate = opts.peak;
  try {
    if (!opts.keepData) {
      console.error('suite: recreating the services’ databases and emptying their queues');
      await databases.reset();
      await broker.purgeQueues();
    }
    const statementsCounted = await databases.enableStatements();
    console.error('suite: migrating');
    suite.migrate();
    console.error(
      `suite: starting the services (${opts.replicas} replica${opts.replicas > 1 ? 's' : ''}) and simulators`,
    );
    await suite.start();
    const merchant = (await http('POST', `${suite.url('order')}/merchants`, operatorToken, {
      name: `Bench merchant ${runId}`,
    })) as { apiKey: string };
    const orderUrls = Array.from({ length: opts.replicas }, (_, r) => suite.url('order', r));
    await sleep(STATS_SETTLE_MS);

    const plan: { name: string; kind: PhaseKind; fraction?: number; rate?: number }[] = [];
    if (opts.phases.includes('peak')) plan.push({ name: 'peak', kind: 'peak' });
    if (opts.phases.includes('paced')) {
      for (const t of opts.paced) {
        plan.push({ name: t.rate ? `paced ${t.rate}/s` : `paced ${t.fraction! * 100} %`, kind: 'paced', ...t });
      }
    }
    if (opts.phases.includes('overload')) {
      const t = opts.overload;
      plan.push({ name: t.rate ? `overload ${t.rate}/s` : `overload ${t.fraction! * 100} %`, kind: 'overload', ...t });
    }

    for (const step of plan) {
      const rate = step.kind === 'peak' ? undefined : (step.rate ?? round(step.fraction! * peakRate!, 1));
      const sku = `BENCH-${runId}-${phases.length + 1}`;
      const customerId = `bench-${runId}-${phases.length + 1}`;
      await http('PUT', `${suite.url('warehouse')}/stock/${sku}`, operatorToken, { onHand: STOCK });
      const line: OrderLine = { sku, quantity: 1, unitPrice: LINE_PRICE };
      const connections = step.kind === 'peak' ? opts.clients : opts.connections;
      const client = new OrderClient(orderUrls, connections, merchant.apiKey);
      console.error(`suite: ${step.name}${rate === undefined ? ` (${opts.clients} clients)` : ` (${rate} orders/s)`}`);

      const dbStart = await databaseCounters(databases, statementsCounted);
      const mqStart = await broker.messageStats();
      const cpuStart = cpu.sample();
      const loadStart = Date.now();
      let placements: Placement[];
      if (step.kind === 'peak') {
        placements = await closedLoop(client, customerId, line, {
          clients: opts.clients,
          orders: opts.orders,
          minSeconds: opts.peakMinSeconds,
        });
      } else {
        const seconds = step.kind === 'paced' ? opts.pacedSeconds : opts.overloadSeconds;
        placements = await openLoop(client, customerId, line, { rate: rate!, seconds, arrivals: opts.arrivals });
      }
      const loadSeconds = (Date.now() - loadStart) / 1_000;
      await client.close();
      const accepted = placements.filter((p) => p.orderId !== undefined).map((p) => p.orderId!);
      log(`${placements.length} sent, ${accepted.length} accepted in ${round(loadSeconds, 1)} s; draining`);
      const left = await drain(databases, customerId, Date.now() + opts.drainSeconds * 1_000, (done, total) =>
        log(`${done} of ${total} terminal`),
      );
      const drainSeconds = (Date.now() - loadStart) / 1_000 - loadSeconds;
      const cores = cpu.since(cpuStart);
      const dead = suite.dead();
      if (dead.length) throw new Error(`exited during the run: ${dead.join(', ')} (logs: bench-<name>.log)`);
      await sleep(STATS_SETTLE_MS);
      const dbEnd = await databaseCounters(databases, statementsCounted);
      const mqEnd = await broker.messageStats();
      const queues = await broker.depth();
      const orders = await orderTimes(databases, customerId);
      const net = await netEffects(databases, accepted, orders, sku, STOCK);
      const confirmed = trimmedRate(orders.map((o) => o.confirmedAt));
      const delivered = trimmedRate(orders.map((o) => o.deliveredAt));
      const retryAfter = [...new Set(placements.flatMap((p) => (p.retryAfter ? [p.retryAfter] : [])))].slice(0, 5);
      const result: PhaseResult = {
        phase: step.name,
        kind: step.kind,
        ...(rate !== undefined && { rate }),
        ...(step.fraction !== undefined && { fractionOfPeak: step.fraction }),
        loadSeconds: round(loadSeconds, 1),
        sent: placements.length,
        answers: answersOf(placements),
        ...(retryAfter.length && { retryAfter }),
        placedPerSecond: round(accepted.length / loadSeconds, 1),
        ...(step.kind === 'peak' && {
          confirmedPerSecond: confirmed.perSecond,
          confirmedWindowSeconds: confirmed.windowSeconds,
          deliveredPerSecond: delivered.perSecond,
          deliveredWindowSeconds: delivered.windowSeconds,
        }),
        answerMs: percentiles(placements.map((p) => p.answeredAt - p.sentAt)),
        ...latencies(orders),
        drainSeconds: round(drainSeconds, 1),
        cores,
        cpuMsPerOrder: cpuPerOrder(cores, accepted.length),
        databasesPerOrder: databaseCostPerOrder(dbStart, dbEnd, accepted.length),
        messagesPerOrder: messagesPerOrder(mqStart, mqEnd, accepted.length),
        queues,
        net,
        disturbed: isDisturbed(cores),
      };
      if (left > 0) log(`${left} orders not terminal after ${opts.drainSeconds} s`);
      console.error(`  ${JSON.stringify(result)}`);
      phases.push(result);
      if (step.kind === 'peak') peakRate = Math.min(confirmed.perSecond, delivered.perSecond);
    }

    const environment: SuiteEnvironment = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      command: ['npm run bench -- suite', ...process.argv.slice(2)].join(' '),
      machine: machineLine(startLoad, busyBefore),
      versions: {
        Node: process.version,
        PostgreSQL: await databases.serverVersion(),
        ...(await broker.versions()),
        ...Object.fromEntries(['undici', 'pg'].map((p) => [p, packageVersion(p)])),
      },
      commit: gitCommit(ROOT, ['apps', 'libs', 'simulators', 'bench']),
      appsRoot: appsRoot === ROOT ? '' : `ORDERFLOW_BENCH_APPS_ROOT=${appsRoot.replace(/\/$/, '')}`,
      appsCommit: appsRoot === ROOT ? '' : gitCommit(appsRoot, ['apps', 'libs', 'simulators']),
      settings: {
        replicas: opts.replicas,
        clients: opts.clients,
        orders: opts.orders,
        'peak min seconds': opts.peakMinSeconds,
        paced: opts.paced.map((t) => (t.rate ? `${t.rate}/s` : String(t.fraction))),
        'paced seconds': opts.pacedSeconds,
        overload: opts.overload.rate ? `${opts.overload.rate}/s` : String(opts.overload.fraction),
        'overload seconds': opts.overloadSeconds,
        arrivals: opts.arrivals,
        connections: opts.connections,
        'carrier DELIVERY_DELAY_MS': opts.deliveryDelayMs,
        'drain seconds': opts.drainSeconds,
        'fresh databases': !opts.keepData,
      },
      statementsCounted,
    };
    console.log(JSON.stringify({ bench: 'suite', ...environment, summary: summarise(phases, peakRate), phases }));
    if (opts.record) await appendResults(RESULTS_FILE, markdownSection(environment, phases, peakRate), METHOD);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
