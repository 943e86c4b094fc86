/**
 * `npm run chaos -- [options]`: the chaos suite from the command line (scripts/chaos.sh brings up the chaos profile's
 * PostgreSQL and RabbitMQ and builds the services first). Prints what it injected, each check, a closing
 * `N passed, M failed` line and one JSON line; `--record` appends the run to bench/RESULTS.md. Exits 1 when a check
 * failed.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { env as required, gitCommit, RESULTS_FILE, ROOT } from '../bench/lib/environment.js';
import { appendResults } from '../bench/lib/results.js';
import { Databases, databaseOf } from '../bench/suite/measure.js';
import { SERVICES, type ServiceName } from '../bench/suite/processes.js';
import { type ChaosReport, formatReport, runChaos } from './chaos.js';
import { FAULT_KINDS, type FaultKind } from './faults.js';

const USAGE = `usage: npm run chaos -- [options]
  --orders N              orders to place (600)
  --rate N                orders per second offered (5)
  --fault-every S         seconds between faults, on average (5)
  --faults LIST           comma-separated fault kinds (all): ${FAULT_KINDS.join(', ')}
  --seed N                the run's random choices repeat with its seed (random)
  --replicas N            processes of every service (1); a kill takes any replica
  --webhook-drop-rate X   share of the third parties' webhooks never sent (0.2)
  --drain-seconds N       after the load, how long every order has to end or park with a reason (600)
  --set NAME=VALUE        a setting given to every service (repeatable), e.g. to try a mechanism switched off
  --record                append the run to bench/RESULTS.md

  The long run recorded in bench/RESULTS.md: npm run chaos -- --orders 10000 --rate 10 --fault-every 5 --record`;

const SECTION_METHOD = `## chaos: how the runs are made

\`npm run chaos\` (chaos/): the five services and both simulators on the chaos profile's PostgreSQL and RabbitMQ;
orders placed through \`POST /orders\` at a steady rate (a merchant's client: one Idempotency-Key per order, sent again
after no answer or a 5xx); payment tokens mixed (tok_ok, tok_flaky: gateway errors, tok_async: results by callback,
tok_declined) and a tenth of the orders for a SKU stocked for half of them; the simulators drop a share of their
webhooks. Faults at random intervals around the given mean, every kind once first: SIGKILL of a replica of each
service, SIGKILL of each simulator, a RabbitMQ restart, PostgreSQL restarts (fast, immediate), and a second AMQP
client (pika) holding, reordering and duplicating deliveries on the service queues. After the load: a drain, then the
checks, read in the databases, the gateway's books and the services' dead-letter queues.`;

function options() {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '300' },
      rate: { type: 'string', default: '5' },
      'fault-every': { type: 'string', default: '5' },
      faults: { type: 'string', default: FAULT_KINDS.join(',') },
      seed: { type: 'string' },
      replicas: { type: 'string', default: '1' },
      'webhook-drop-rate': { type: 'string', default: '0.2' },
      'drain-seconds': { type: 'string', default: '600' },
      set: { type: 'string', multiple: true, default: [] },
      record: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: keyof typeof values, min: number, max = Infinity) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}]`);
    return n;
  };
  const faults = values.faults.split(',').filter(Boolean);
  const unknown = faults.filter((f) => !(FAULT_KINDS as readonly string[]).includes(f));
  if (unknown.length) throw new Error(`--faults: unknown ${unknown.join(', ')}`);
  const serviceEnv: Record<string, string> = {};
  for (const setting of values.set) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(setting);
    if (!match) throw new Error(`--set ${setting}: expected NAME=VALUE`);
    serviceEnv[match[1]] = match[2];
  }
  return {
    serviceEnv,
    orders: num('orders', 1),
    rate: num('rate', 0.1),
    faultEverySeconds: num('fault-every', 0.5),
    faults: faults as FaultKind[],
    seed: values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : num('seed', 0),
    replicas: num('replicas', 1, 4),
    webhookDropRate: num('webhook-drop-rate', 0, 1),
    drainSeconds: num('drain-seconds', 1),
    record: values.record,
  };
}

function markdown(report: ChaosReport, command: string, machine: string, commit: string): string {
  const faults = new Map<string, number>();
  for (const f of report.injected) faults.set(f.kind, (faults.get(f.kind) ?? 0) + 1);
  return [
    `## chaos — ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`${command}\``,
    '',
    `Machine: ${machine}. Commit ${commit}.`,
    '',
    `Seed ${report.seed}: ${report.orders.accepted} of ${report.orders.offered} orders accepted (${report.orders.retriedRequests} requests sent again), load ${report.loadSeconds} s, drain ${report.drainSeconds} s. Faults injected: ${report.injected.length} (${[...faults.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}).`,
    '',
    '| check | result | detail |',
    '| --- | --- | --- |',
    ...report.checks.map(
      (c) => `| ${c.name} | ${c.passed ? 'passed' : '**failed**'} | ${c.detail.replaceAll('|', '\\|')} |`,
    ),
    '',
    `${report.passed} passed, ${report.failed} failed.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options();
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const env = (name: string) => required(name, 'chaos');
  const stateDir = env('ORDERFLOW_STATE_DIR');
  const names = Object.fromEntries(
    SERVICES.map((s) => [s.name, databaseOf(env(`${s.name.toUpperCase()}_DATABASE_URL`))]),
  ) as Record<ServiceName, string>;
  const databases = new Databases(env('PG_ADMIN_URL'), names);
  const log = (line: string) => console.error(`chaos: ${line}`);
  // The code run is the code at the start: commits made while a long run goes on are not in it.
  const commit = gitCommit(ROOT, ['apps', 'libs', 'simulators', 'chaos']);
  const machine =
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; ` +
    `load average ${loadavg()[0].toFixed(2)} before the run`;
  try {
    const report = await runChaos(
      {
        ...opts,
        meddleSeconds: 8,
        carrierDeliveryDelayMs: 1_000,
        suite: {
          appsRoot: ROOT.replace(/\/$/, ''),
          httpPortBase: Number(env('ORDER_PORT')),
          logDir: env('LOG_DIR'),
          runDir: env('RUN_DIR'),
          stateDir,
        },
        operatorToken: env('ORDERFLOW_OPERATOR_TOKEN'),
        amqpAdminUrl: env('AMQP_ADMIN_URL'),
        amqpUrls: Object.fromEntries(SERVICES.map(({ name }) => [name, env(`${name.toUpperCase()}_AMQP_URL`)])),
      },
      databases,
      log,
    );
    console.error(formatReport(report));
    console.log(JSON.stringify({ chaos: new Date().toISOString(), ...report }));
    if (opts.record) {
      const command = ['npm run chaos --', ...process.argv.slice(2)].join(' ');
      await appendResults(RESULTS_FILE, markdown(report, command, machine, commit), SECTION_METHOD);
    }
    process.exitCode = report.failed > 0 ? 1 : 0;
  } finally {
    await databases.close();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
