/**
 * `npm run bench -- messaging`: what reliability costs. The same workload three ways, side by side in one run —
 * reliable (outbox + relay with confirms + inbox, the library's real classes), unsafe (commit then publish, effect
 * then ack) and the broker ceiling — at full load and paced, with lost and doubled effects counted in the database.
 * Prints one JSON line and appends a section to bench/RESULTS.md. How each figure is measured: report.ts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_CONSUMER_OPTIONS, DEFAULT_RELAY_OPTIONS } from '@orderflow/messaging';
import pg from 'pg';
import { CpuWatch } from './lib/cpu.js';
import {
  env as required,
  gitCommit as commitOf,
  machineLine,
  packageVersion,
  RESULTS_FILE,
  ROOT,
} from './lib/environment.js';
import type { FromSide, Load, RunPlan, SideConfig, ToSide, Variant } from './messaging/protocol.js';
import { sleep } from './messaging/protocol.js';
import {
  appendResults,
  type Environment,
  evaluateTargets,
  markdownSection,
  type RunResult,
  summariseRun,
} from './messaging/report.js';
import { BrokerAdmin, DatabaseAdmin, withVhost } from './messaging/setup.js';

const USAGE = `usage: npm run bench -- messaging [options]
  --producers N          concurrent producers (8)
  --messages N           messages per variant at full load (20000)
  --warmup N             messages per variant before measuring, checked but not reported (1000)
  --rate N               paced load, messages per second over all producers (200)
  --paced-seconds N      paced load duration (15)
  --ceiling-messages N   messages for the broker ceiling (200000)
  --variants LIST        comma-separated: ceiling,unsafe,reliable (all)
  --loads LIST           comma-separated: full,paced (both)
  --relay-batch N        RelayOptions.batchSize (${DEFAULT_RELAY_OPTIONS.batchSize})
  --relay-workers N      RelayOptions.workers (${DEFAULT_RELAY_OPTIONS.workers})
  --relay-poll-ms N      RelayOptions.pollIntervalMs (${DEFAULT_RELAY_OPTIONS.pollIntervalMs})
  --prefetch N           ConsumerOptions.prefetch (${DEFAULT_CONSUMER_OPTIONS.prefetch})
  --lanes N              ConsumerOptions.lanes (${DEFAULT_CONSUMER_OPTIONS.lanes})
  --max-batch N          ConsumerOptions.maxBatch (${DEFAULT_CONSUMER_OPTIONS.maxBatch})
  --no-record            print the JSON line only; do not append to bench/RESULTS.md`;

const DRAIN_TIMEOUT_MS = 60_000;
const SETTLE_MS = 1_000;

function options() {
  const { values } = parseArgs({
    options: {
      producers: { type: 'string', default: '8' },
      messages: { type: 'string', default: '20000' },
      warmup: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '200' },
      'paced-seconds': { type: 'string', default: '15' },
      'ceiling-messages': { type: 'string', default: '200000' },
      variants: { type: 'string', default: 'ceiling,unsafe,reliable' },
      loads: { type: 'string', default: 'full,paced' },
      'relay-batch': { type: 'string', default: String(DEFAULT_RELAY_OPTIONS.batchSize) },
      'relay-workers': { type: 'string', default: String(DEFAULT_RELAY_OPTIONS.workers) },
      'relay-poll-ms': { type: 'string', default: String(DEFAULT_RELAY_OPTIONS.pollIntervalMs) },
      prefetch: { type: 'string', default: String(DEFAULT_CONSUMER_OPTIONS.prefetch) },
      lanes: { type: 'string', default: String(DEFAULT_CONSUMER_OPTIONS.lanes) },
      'max-batch': { type: 'string', default: String(DEFAULT_CONSUMER_OPTIONS.maxBatch) },
      'no-record': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: keyof typeof values, min: number) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${values[name]}`);
    return n;
  };
  const list = <T extends string>(name: 'variants' | 'loads', allowed: readonly T[]): T[] => {
    const items = values[name].split(',').filter(Boolean);
    const bad = items.filter((v) => !allowed.includes(v as T));
    if (bad.length) throw new Error(`--${name}: unknown ${bad.join(', ')} (known: ${allowed.join(', ')})`);
    return allowed.filter((v) => items.includes(v));
  };
  return {
    producers: int('producers', 1),
    messages: int('messages', 1),
    warmup: int('warmup', 0),
    rate: int('rate', 1),
    pacedSeconds: int('paced-seconds', 1),
    ceilingMessages: int('ceiling-messages', 1),
    variants: list<Variant>('variants', ['ceiling', 'unsafe', 'reliable']),
    loads: list<Exclude<Load, 'warmup'>>('loads', ['full', 'paced']),
    relay: {
      batchSize: int('relay-batch', 1),
      workers: int('relay-workers', 1),
      pollIntervalMs: int('relay-poll-ms', 1),
    },
    consumer: { prefetch: int('prefetch', 1), lanes: int('lanes', 1), maxBatch: int('max-batch', 1) },
    record: !values['no-record'],
  };
}

const env = (name: string) => required(name, 'messaging');

/** One side's process, asked one thing at a time. */
class SideProcess {
  private readonly child: ChildProcess;
  private pending?: { resolve: (m: FromSide) => void; reject: (e: Error) => void };
  private exited = false;

  private constructor(private readonly name: string) {
    this.child = fork(fileURLToPath(new URL(`./messaging/${name}.ts`, import.meta.url)), [], {
      // stdout belongs to the JSON result line.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    this.child.on('message', (message: FromSide) => {
      const pending = this.pending;
      this.pending = undefined;
      if (message.type === 'failed') pending?.reject(new Error(`${this.name}: ${message.error}`));
      else pending?.resolve(message);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.pending?.reject(new Error(`${this.name} exited (${signal ?? code})`));
    });
  }

  static async start(name: string, config: SideConfig): Promise<SideProcess> {
    const side = new SideProcess(name);
    await side.ask({ type: 'init', config }, 'ready');
    return side;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  ask<K extends FromSide['type']>(message: ToSide, answer: K): Promise<Extract<FromSide, { type: K }>> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    return new Promise<FromSide>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(message);
    }).then((m) => {
      if (m.type !== answer) throw new Error(`${this.name} answered ${m.type} to ${message.type}`);
      return m as Extract<FromSide, { type: K }>;
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exit = once(this.child, 'exit');
    await this.ask({ type: 'stop' }, 'stopped');
    await Promise.race([exit, sleep(10_000)]);
    this.kill();
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

async function countLostAndDoubled(databaseUrl: string, run: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ lost: number; doubled: number }>(
      `SELECT
         (SELECT count(*)::int FROM bench_orders o
          WHERE o.run = $1 AND NOT EXISTS (SELECT 1 FROM bench_effects e WHERE e.order_id = o.id)) AS lost,
         (SELECT count(*)::int FROM (
            SELECT e.order_id FROM bench_effects e JOIN bench_orders o ON o.id = e.order_id
            WHERE o.run = $1 GROUP BY e.order_id HAVING count(*) > 1) AS d) AS doubled`,
      [run],
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

type Options = ReturnType<typeof options>;

/** The options, or a usage message and exit status 2. */
function optionsOrUsage(): Options {
  try {
    return options();
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const opts = optionsOrUsage();
  const id = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const vhost = `bench-${id}`;
  const broker = new BrokerAdmin(
    env('RABBITMQ_MANAGEMENT_URL'),
    env('RABBITMQ_ADMIN_USER'),
    env('RABBITMQ_ADMIN_PASSWORD'),
  );
  const databases = new DatabaseAdmin(env('PG_ADMIN_URL'));
  const amqpUrl = withVhost(env('AMQP_ADMIN_URL'), vhost);
  const sides = new Set<SideProcess>();
  let current: { producer?: SideProcess; consumer?: SideProcess } = {};
  const cpu = new CpuWatch(process.env.ORDERFLOW_STATE_DIR ?? `${ROOT}.orderflow/bench`, () => ({
    producer: [current.producer?.pid],
    consumer: [current.consumer?.pid],
  }));

  // One cleanup, however it is reached (a signal, a failure, the end): the later callers wait for the first.
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const side of sides) side.kill();
      await databases.dropAll().catch((err: Error) => console.error(`could not drop databases: ${err.message}`));
      await broker.deleteVhost(vhost).catch((err: Error) => console.error(`could not delete ${vhost}: ${err.message}`));
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  }

  const startLoad = loadavg()[0];
  // What the machine does without us: the figures are only as good as the machine was quiet.
  const idleStart = cpu.sample();
  await sleep(2_000);
  const busyBefore = cpu.since(idleStart).machine;
  const runs: RunResult[] = [];
  try {
    await broker.createVhost(vhost);
    for (const variant of opts.variants) {
      const database = variant === 'ceiling' ? undefined : `bench_${id}_${variant}`;
      const databaseUrl = database ? await databases.create(database) : undefined;
      const config: SideConfig = {
        variant,
        databaseUrl,
        amqpUrl,
        producers: opts.producers,
        relay: opts.relay,
        consumer: opts.consumer,
      };
      const consumer = await SideProcess.start('consumer-side', config);
      sides.add(consumer);
      const producer = await SideProcess.start('producer-side', config);
      sides.add(producer);
      current = { producer, consumer };

      const plans: RunPlan[] =
        variant === 'ceiling'
          ? [{ run: 'full', load: 'full', messages: opts.ceilingMessages }]
          : [
              ...(opts.warmup ? [{ run: 'warmup', load: 'warmup' as const, messages: opts.warmup }] : []),
              ...(opts.loads.includes('full') ? [{ run: 'full', load: 'full' as const, messages: opts.messages }] : []),
              ...(opts.loads.includes('paced')
                ? [
                    {
                      run: 'paced',
                      load: 'paced' as const,
                      messages: opts.rate * opts.pacedSeconds,
                      ratePerSecond: opts.rate,
                    },
                  ]
                : []),
            ];
      let expected = 0;
      for (const plan of plans) {
        console.error(
          `${variant}: ${plan.load} (${plan.messages} messages${plan.ratePerSecond ? ` at ${plan.ratePerSecond}/s` : ''})`,
        );
        await consumer.ask({ type: 'run', plan }, 'ready');
        const cpuStart = cpu.sample();
        const produced = await producer.ask({ type: 'run', plan }, 'produced');
        expected = (variant === 'ceiling' ? 0 : expected) + produced.count;
        const { timedOut } = await consumer.ask(
          { type: 'await', distinctEffects: expected, timeoutMs: DRAIN_TIMEOUT_MS },
          'reached',
        );
        const consumed = await consumer.ask({ type: 'collect' }, 'consumed');
        const cores = cpu.since(cpuStart);
        const counts = databaseUrl ? await countLostAndDoubled(databaseUrl, plan.run) : undefined;
        const result = summariseRun(
          variant,
          plan.load,
          plan.messages,
          plan.ratePerSecond,
          produced,
          consumed,
          counts,
          cores,
          timedOut,
        );
        runs.push(result);
        console.error(`  ${JSON.stringify(result)}`);
        await sleep(SETTLE_MS);
      }
      await producer.stop();
      await consumer.stop();
      sides.delete(producer);
      sides.delete(consumer);
      current = {};
      if (database) await databases.drop(database);
    }

    const targets = evaluateTargets(runs);
    const environment: Environment = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      command: ['npm run bench -- messaging', ...process.argv.slice(2)].join(' '),
      machine: machineLine(startLoad, busyBefore),
      versions: {
        Node: process.version,
        PostgreSQL: await databases.serverVersion(),
        ...Object.fromEntries(
          Object.entries(await broker.versions()).map(([k, v]) => [k === 'rabbitmq' ? 'RabbitMQ' : 'Erlang', v]),
        ),
        ...Object.fromEntries(['amqplib', 'pg', 'typeorm'].map((p) => [p, packageVersion(p)])),
      },
      commit: gitCommit(),
      settings: {
        producers: opts.producers,
        relay: opts.relay,
        consumer: opts.consumer,
        messages: opts.messages,
        warmup: opts.warmup,
        pacedRate: opts.rate,
        pacedSeconds: opts.pacedSeconds,
        ceilingMessages: opts.ceilingMessages,
      },
    };
    console.log(JSON.stringify({ bench: 'messaging', ...environment, runs, targets }));
    if (opts.record) await appendResults(RESULTS_FILE, markdownSection(environment, runs, targets));
  } finally {
    await cleanup();
  }
}

/** The commit measured, and whether the library's code differed from it. */
const gitCommit = () => commitOf(ROOT, ['libs/messaging']);

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
