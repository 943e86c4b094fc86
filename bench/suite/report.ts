/** The suite bench's figures as one JSON line's parts and as a RESULTS.md section, with its method section. */
import { type CpuShare, DISTURBED_OTHER_CORES } from '../lib/cpu.js';
import { type Percentiles, percentiles, round } from '../lib/stats.js';
import type { Placement } from './load.js';
import type { DatabaseCostPerOrder, NetEffects, OrderTimes } from './measure.js';
import { SERVICES, SIMULATORS, type ServiceName } from './processes.js';

export type Component = ServiceName | (typeof SIMULATORS)[number]['name'] | 'driver';
export const COMPONENTS: readonly Component[] = [
  ...SERVICES.map((s) => s.name),
  ...SIMULATORS.map((s) => s.name),
  'driver',
];

export type PhaseKind = 'peak' | 'paced' | 'overload';

export interface PhaseResult {
  phase: string;
  kind: PhaseKind;
  /** Offered rate, orders/s (open loop); the closed loop offers what its clients can place. */
  rate?: number;
  fractionOfPeak?: number;
  loadSeconds: number;
  sent: number;
  answers: Record<string, number>;
  retryAfter?: string[];
  placedPerSecond: number;
  confirmedPerSecond?: number;
  deliveredPerSecond?: number;
  /** The window the rates above were measured over (5th to 95th percentile of the status times), seconds. */
  confirmedWindowSeconds?: number;
  deliveredWindowSeconds?: number;
  /** POST /orders answer time from when the request was due, ms. */
  answerMs?: Percentiles;
  toConfirmedMs?: Percentiles;
  toDeliveredMs?: Percentiles;
  drainSeconds: number;
  cores: CpuShare<Component>;
  cpuMsPerOrder: Record<Component | 'postgres' | 'rabbitmq' | 'interrupts' | 'other' | 'total', number>;
  databasesPerOrder: Record<ServiceName, DatabaseCostPerOrder>;
  messagesPerOrder: { published: number; delivered: number; acked: number; redelivered: number };
  queues: { ready: number; unacked: number; deadLettered: number };
  net: NetEffects;
  disturbed: boolean;
}

/** Rate over the middle 90 % of the times: ramp-up and drain tails (the first and last 5 %) left out. */
export function trimmedRate(times: readonly (number | undefined)[]): { perSecond: number; windowSeconds: number } {
  const sorted = times.filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  if (sorted.length < 20) {
    const seconds = sorted.length > 1 ? (sorted[sorted.length - 1] - sorted[0]) / 1_000 : 0;
    return { perSecond: seconds > 0 ? round(sorted.length / seconds, 1) : 0, windowSeconds: round(seconds, 1) };
  }
  const from = Math.floor(sorted.length * 0.05);
  const to = Math.ceil(sorted.length * 0.95) - 1;
  const seconds = (sorted[to] - sorted[from]) / 1_000;
  return { perSecond: round((to - from) / seconds, 1), windowSeconds: round(seconds, 1) };
}

export function answersOf(placements: readonly Placement[]): Record<string, number> {
  const answers: Record<string, number> = {};
  for (const p of placements) {
    const key = p.status === 0 ? 'no answer' : String(p.status);
    answers[key] = (answers[key] ?? 0) + 1;
  }
  return answers;
}

export function latencies(orders: readonly OrderTimes[]): { toConfirmedMs?: Percentiles; toDeliveredMs?: Percentiles } {
  return {
    toConfirmedMs: percentiles(orders.map((o) => (o.confirmedAt ?? NaN) - o.createdAt)),
    toDeliveredMs: percentiles(orders.map((o) => (o.deliveredAt ?? NaN) - o.createdAt)),
  };
}

export function cpuPerOrder(cores: CpuShare<Component>, orders: number): PhaseResult['cpuMsPerOrder'] {
  const ms = (c: number) => round((c * cores.seconds * 1_000) / Math.max(1, orders), 2);
  const named = Object.fromEntries(COMPONENTS.map((c) => [c, ms(cores[c])])) as Record<Component, number>;
  return {
    ...named,
    postgres: ms(cores.postgres),
    rabbitmq: ms(cores.rabbitmq),
    interrupts: ms(cores.interrupts),
    other: ms(cores.other),
    total: ms(cores.machine - cores.other),
  };
}

/** The figures the issue asks for, from the phases: the JSON line's `summary`. */
export function summarise(phases: readonly PhaseResult[], peakUsed: number | undefined) {
  const lat = (p: Percentiles | undefined) => (p ? { p50: p.p50, p99: p.p99, max: p.max } : undefined);
  const peak = phases.find((p) => p.kind === 'peak');
  const window = peak ? Math.min(peak.confirmedWindowSeconds ?? 0, peak.deliveredWindowSeconds ?? 0) : 0;
  const overload = phases.find((p) => p.kind === 'overload');
  return {
    peak: peak && {
      confirmedPerSecond: peak.confirmedPerSecond,
      deliveredPerSecond: peak.deliveredPerSecond,
      windowSeconds: window,
      sustained60s: window >= 60,
    },
    peakUsedForFractions: peakUsed,
    paced: phases
      .filter((p) => p.kind === 'paced')
      .map((p) => ({
        phase: p.phase,
        rate: p.rate,
        toConfirmedMs: lat(p.toConfirmedMs),
        toDeliveredMs: lat(p.toDeliveredMs),
      })),
    overload: overload && {
      rate: overload.rate,
      answers: overload.answers,
      toConfirmedMs: lat(overload.toConfirmedMs),
      toDeliveredMs: lat(overload.toDeliveredMs),
    },
    costPerOrder: (peak ?? phases[0]) && {
      phase: (peak ?? phases[0]).phase,
      cpuMs: (peak ?? phases[0]).cpuMsPerOrder,
      databases: (peak ?? phases[0]).databasesPerOrder,
      messages: (peak ?? phases[0]).messagesPerOrder,
    },
    net: {
      lost: phases.reduce((n, p) => n + p.net.lost, 0),
      doubled: phases.reduce((n, p) => n + p.net.doubled, 0),
      stuck: phases.reduce((n, p) => n + p.net.stuck, 0),
      moneyDifference: phases.reduce((n, p) => n + p.net.money.difference, 0),
      stockDifference: phases.reduce((n, p) => n + p.net.stock.difference, 0),
    },
    disturbed: phases.some((p) => p.disturbed),
  };
}

export const isDisturbed = (cores: CpuShare<Component>) => cores.other > DISTURBED_OTHER_CORES;

export interface SuiteEnvironment {
  date: string;
  command: string;
  machine: string;
  versions: Record<string, string>;
  commit: string;
  appsRoot: string;
  appsCommit: string;
  settings: Record<string, unknown>;
  statementsCounted: boolean;
}

export const METHOD = `## suite: how the figures are measured

- **What runs.** \`npm run bench -- suite\` starts the bench profile's PostgreSQL and RabbitMQ as \`npm run up\` does
  (its own state folder and ports; PostgreSQL with \`pg_stat_statements\` preloaded), drops and recreates the five
  services' databases (same names and owners; \`--keep-data\` keeps them) and empties the vhost's queues (an
  earlier run's leftovers, dead letters included, would otherwise be counted in this one), migrates them with each service's own
  \`migrate\` command and starts the five services (\`--replicas 2\`: two processes each, the second on HTTP port
  base + offset + 20, same database and broker user) and both simulators from the built \`dist/\`, with the
  environment \`scripts/lib/services.sh\` gives them, \`LOG_LEVEL=warn\` and \`RATE_LIMIT_REQUESTS=1000000\` (a rate
  limit no bench load reaches). The payment gateway simulator runs at its defaults; the carrier with
  \`DELIVERY_DELAY_MS\` = \`--delivery-delay-ms\` (200 ms unless stated: a delivery reported
  within milliseconds races the commit of its booking, is refused, and under load the simulator's five quick retries
  can run out, leaving the order SHIPPED, which no real carrier does; 0 would mean "never, only through the testing
  hook"). **Baseline:** \`ORDERFLOW_BENCH_APPS_ROOT=/path/to/checkout\` runs that checkout's \`dist/\` (its
  services, simulators and migrations, built there with \`npm run build\`; not rebuilt) with this driver, e.g. the
  code at a75c280 in its own worktree; the section's Commit line then names both.
- **Load.** A driver process of its own places orders through the public REST API only: one merchant made with
  \`POST /merchants\` (operator token), one SKU per phase stocked with \`PUT /stock/:sku\`, and \`POST /orders\` with a
  fresh \`Idempotency-Key\`, token \`tok_ok\`, one line of quantity 1, over undici pools (keep-alive, at most
  \`--connections\`; closed loop: one per client) spread round-robin over the order service's replicas. **Peak**: a
  closed loop of \`--clients\` clients, each placing its next order when the previous one was answered (after
  waiting \`Retry-After\` when refused with it, as a well-behaved client does), until at least \`--orders\` were
  accepted and at least \`--peak-min-seconds\` passed. **Paced** and **overload**: open loop,
  Poisson arrivals (\`--arrivals fixed\`: evenly spaced) at a fraction of the peak (\`--paced\`, \`--overload\`) for
  \`--paced-seconds\` / \`--overload-seconds\`; a request waiting for a free connection counts its wait, since its
  time is when it was due. The peak the fractions apply to is the lower of the CONFIRMED and DELIVERED rates
  (\`--peak <rate>\` gives it and skips the peak phase). After each phase the bench waits until every order of the
  phase is DELIVERED or CANCELLED, or \`--drain-seconds\` passed.
- **Throughput** (peak) = orders that reached CONFIRMED (DELIVERED) per second over the window in which they did:
  the times of the status in the orders' \`history\`, sorted, from the 5th to the 95th percentile (the ramp-up
  and drain tails left out), so 90 % of the orders over that window's length. The window's length is reported; the
  peak is *sustained* when it is at least 60 s. The closed loop places orders faster than the suite carries them
  through, so a backlog builds during the peak and the rates measure what the suite carries, not what it accepts.
- **Latency** = status time − placement time, both from the order database after draining: placement is
  \`orders.created_at\` (the order service's clock, ms, when it built the order, just before its transaction);
  CONFIRMED and DELIVERED are the \`at\` of those entries in \`orders.history\`, the time of the saga's status event
  (its envelope's \`time\`, the saga's clock, ms). All processes run on one machine, so the clocks agree. The
  driver does not poll orders. *POST answer* is the HTTP answer time from when the request was due (driver's clock).
- **Overload** counts the answers to \`POST /orders\` by status (202 accepted, 503 refused with Retry-After once
  the suite sheds load, 429, "no answer" = connection error or 30 s timeout) and the latency of the accepted ones.
- **Cost per order** = CPU over the phase (from the first order to the end of draining) ÷ orders accepted: from
  /proc, per service (replicas summed), PostgreSQL (postmaster and backends), RabbitMQ (its Erlang node), each
  simulator, the driver, the kernel's interrupt work; *other* is the rest of the machine. A phase in which other
  work used more than 0.25 cores is marked *disturbed*. **Per database**, deltas over the phase ÷ accepted orders:
  statements (\`pg_stat_statements\` calls by the services' own roles, top-level statements), commits
  (\`pg_stat_database.xact_commit\`), rows written (\`tup_inserted + tup_updated + tup_deleted\`) and tuples read
  (\`tup_returned + tup_fetched\`); the end is read 11 s after draining, as PostgreSQL flushes an idle backend's
  counters within 10 s. The bench's own reads while draining (one count a second on the order database) are in
  the order database's commits and tuples read, not in its statements. **Messages** = the \`orderflow\` vhost's
  \`message_stats\` deltas (publish, deliver_get) from the management API ÷ accepted orders, read after the same
  wait (the bench profile's broker refreshes its statistics every 5 s).
- **Net effects**, in the databases after draining: *lost* = accepted (2xx) orders missing from the order database
  or never seen by the saga (no saga instance); *stuck* = orders not DELIVERED or CANCELLED at the drain deadline
  (the lost included); *doubled* = orders with a second payment row, a second reservation line for one SKU, a second
  shipment, or a status recorded twice in their history; *money kept* = the payment database's captured minus
  refunded amounts for the phase's orders, against the totals of its CONFIRMED, SHIPPED and DELIVERED orders;
  *stock* = the phase SKU's on-hand decrease against the quantities of its SHIPPED and DELIVERED orders (and what
  is still reserved).
`;

const fmt = (n: number | undefined) => (n === undefined ? '–' : n.toLocaleString('en-US'));
const lat = (p: Percentiles | undefined) => (p ? `${fmt(p.p50)} / ${fmt(p.p99)} / ${fmt(p.max)}` : '–');
const mark = (r: PhaseResult) => `${r.phase}${r.disturbed ? ' (disturbed)' : ''}`;

export function markdownSection(env: SuiteEnvironment, phases: readonly PhaseResult[], peak?: number): string {
  const lines = [
    `## suite — ${env.date}`,
    '',
    `Command: \`${env.command}\``,
    '',
    `Machine: ${env.machine}. ${Object.entries(env.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}. Commit ${env.commit}${env.appsRoot ? `; services and simulators from ${env.appsRoot} at ${env.appsCommit}` : ''}.`,
    '',
    `Settings: ${Object.entries(env.settings)
      .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : String(v)}`)
      .join('; ')}.${env.statementsCounted ? '' : ' pg_stat_statements was not available: no statement counts.'}`,
    '',
    `Peak used for the paced and overload phases: ${fmt(peak)} orders/s` +
      (phases.some((p) => p.kind === 'peak')
        ? ` (the lower of the CONFIRMED and DELIVERED rates; sustained ≥ 60 s: ${
            summarise(phases, peak).peak?.sustained60s ? 'yes' : '**no**, the window was shorter'
          }).`
        : ' (given with --peak).'),
    '',
    '| phase | offered /s | orders sent | answers | placed /s | CONFIRMED /s (window s) | DELIVERED /s (window s) | POST answer p50 / p99 / max ms | → CONFIRMED p50 / p99 / max ms | → DELIVERED p50 / p99 / max ms |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...phases.map(
      (r) =>
        `| ${mark(r)} | ${r.rate === undefined ? 'closed loop' : fmt(r.rate)} | ${fmt(r.sent)} | ` +
        `${Object.entries(r.answers)
          .map(([k, v]) => `${k}: ${fmt(v)}`)
          .join(', ')} | ${fmt(r.placedPerSecond)} | ` +
        `${r.confirmedPerSecond === undefined ? '–' : `${fmt(r.confirmedPerSecond)} (${r.confirmedWindowSeconds})`} | ` +
        `${r.deliveredPerSecond === undefined ? '–' : `${fmt(r.deliveredPerSecond)} (${r.deliveredWindowSeconds})`} | ` +
        `${lat(r.answerMs)} | ${lat(r.toConfirmedMs)} | ${lat(r.toDeliveredMs)} |`,
    ),
    '',
    'CPU ms per order (replicas summed):',
    '',
    `| phase | ${COMPONENTS.join(' | ')} | postgres | rabbitmq | interrupts | all ours | other (cores) |`,
    `| --- | ${COMPONENTS.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: |`,
    ...phases.map((r) => {
      const c = r.cpuMsPerOrder;
      return (
        `| ${mark(r)} | ${COMPONENTS.map((k) => c[k]).join(' | ')} | ${c.postgres} | ${c.rabbitmq} | ` +
        `${c.interrupts} | ${c.total} | ${c.other} (${r.cores.other}${r.cores.otherTop ? `: ${r.cores.otherTop}` : ''}) |`
      );
    }),
    '',
    'Per order, per database (statements, commits, rows written, tuples read) and RabbitMQ messages:',
    '',
    `| phase | ${SERVICES.map((s) => s.name).join(' | ')} | messages published / delivered |`,
    `| --- | ${SERVICES.map(() => '---:').join(' | ')} | ---: |`,
    ...phases.map((r) => {
      const db = (s: ServiceName) => {
        const d = r.databasesPerOrder[s];
        return `${d.statements ?? '–'}, ${d.commits}, ${d.rowsWritten}, ${d.tuplesRead}`;
      };
      return (
        `| ${mark(r)} | ${SERVICES.map((s) => db(s.name)).join(' | ')} | ` +
        `${r.messagesPerOrder.published} / ${r.messagesPerOrder.delivered} |`
      );
    }),
    '',
    'Net effects, after draining:',
    '',
    '| phase | accepted | statuses | lost | stuck | doubled | money kept vs order totals (difference) | stock on-hand decrease vs sold (reserved left) | queues ready / unacked / DLQ |',
    '| --- | ---: | --- | ---: | ---: | ---: | --- | --- | --- |',
    ...phases.map((r) => {
      const n = r.net;
      return (
        `| ${mark(r)} | ${fmt(n.accepted)} | ${Object.entries(n.byStatus)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')} | ${fmt(n.lost)} | ${fmt(n.stuck)} | ${fmt(n.doubled)} | ` +
        `${fmt(n.money.kept)} vs ${fmt(n.money.ordersTotal)} (${fmt(n.money.difference)}) | ` +
        `${fmt(n.stock.onHandDecrease)} vs ${fmt(n.stock.quantitySold)} (${fmt(n.stock.reservedLeft)}) | ` +
        `${r.queues.ready} / ${r.queues.unacked} / ${r.queues.deadLettered} |`
      );
    }),
    '',
    ...(phases.some((r) => r.disturbed)
      ? [
          `(disturbed): other work on the machine used more than ${DISTURBED_OTHER_CORES} cores during that phase ` +
            '("other" above); its figures are not comparable.',
          '',
        ]
      : []),
  ];
  return lines.join('\n');
}
