/**
 * Turns what the sides measured into figures, checks them against the targets of the issue, and writes them: one
 * JSON line on stdout, and a section appended to bench/RESULTS.md.
 */
import { type CpuShare as Cores, DISTURBED_OTHER_CORES } from '../lib/cpu.js';
import { appendResults as append } from '../lib/results.js';
import { type Percentiles, percentiles, round } from '../lib/stats.js';
import type { Consumed, Load, Produced, SideConfig, SideUsage, Variant } from './protocol.js';

export type CpuShare = Cores<'producer' | 'consumer'>;
export { DISTURBED_OTHER_CORES, percentiles };

export interface RunResult {
  variant: Variant;
  load: Load;
  offered: number;
  ratePerSecond?: number;
  committed: number;
  effects: number;
  /** Messages per second from the first producer commit to the last effect commit. */
  throughput: number;
  /** Producer commits per second, from the first commit to the last. */
  commitRate?: number;
  seconds: number;
  relayMs?: Percentiles;
  /** Commit → the consumer's handler starts: relay, broker, delivery, and the wait for a lane and its BEGIN. */
  toConsumerMs?: Percentiles;
  endToEndMs?: Percentiles;
  lost?: number;
  doubled?: number;
  duplicatesSkippedByInbox?: number;
  failures: number;
  relayBatches?: number;
  meanRelayBatch?: number;
  consumerTransactions?: number;
  meanConsumerBatch?: number;
  roundTripsPerMessage?: { producer: number; consumer: number };
  statements?: { producer: SideUsage['statements']; consumer: SideUsage['statements'] };
  eventLoopBusy: { producer: number; consumer: number };
  cores: CpuShare;
  /** CPU milliseconds per message, by whom: on a saturated machine, throughput ≈ cores / this. */
  cpuMsPerMessage: { total: number; postgres: number; rabbitmq: number; producer: number; consumer: number };
  timedOut: boolean;
}

export interface Target {
  name: string;
  value: string;
  met: boolean;
}

export interface Environment {
  date: string;
  command: string;
  machine: string;
  versions: Record<string, string>;
  commit: string;
  settings: Omit<SideConfig, 'variant' | 'databaseUrl' | 'amqpUrl'> & {
    messages: number;
    warmup: number;
    pacedRate: number;
    pacedSeconds: number;
    ceilingMessages: number;
  };
}

function cpuPerMessage(cores: CpuShare, messages: number): RunResult['cpuMsPerMessage'] {
  const ms = (c: number) => round((c * cores.seconds * 1_000) / Math.max(1, messages), 3);
  return {
    total: ms(cores.machine - cores.other),
    postgres: ms(cores.postgres),
    rabbitmq: ms(cores.rabbitmq),
    producer: ms(cores.producer),
    consumer: ms(cores.consumer),
  };
}

export function summariseRun(
  variant: Variant,
  load: Load,
  offered: number,
  ratePerSecond: number | undefined,
  produced: Produced,
  consumed: Consumed,
  counts: { lost: number; doubled: number } | undefined,
  cores: CpuShare,
  timedOut: boolean,
): RunResult {
  const seconds = (consumed.lastAt - produced.firstAt) / 1_000;
  const result: RunResult = {
    variant,
    load,
    offered,
    ...(ratePerSecond && { ratePerSecond }),
    committed: produced.count,
    effects: consumed.count,
    throughput: Math.round(consumed.count / seconds),
    seconds: round(seconds, 3),
    failures: produced.failures + consumed.failures,
    eventLoopBusy: {
      producer: round(produced.usage.eventLoopUtilization),
      consumer: round(consumed.usage.eventLoopUtilization),
    },
    cores,
    cpuMsPerMessage: cpuPerMessage(cores, consumed.count),
    timedOut,
  };
  if (variant === 'ceiling') return result;

  const effectAt = new Map<string, number>();
  const reachedAt = new Map<string, number>();
  consumed.orderIds.forEach((id, i) => {
    effectAt.set(id, consumed.effectAt[i]);
    reachedAt.set(id, consumed.reachedAt[i]);
  });
  const lastCommit = produced.committedAt.reduce((a, b) => Math.max(a, b), 0);
  result.commitRate = Math.round(produced.count / ((lastCommit - produced.firstAt) / 1_000));
  result.toConsumerMs = percentiles(
    produced.orderIds.map((id, i) => (reachedAt.get(id) ?? NaN) - produced.committedAt[i]),
  );
  result.endToEndMs = percentiles(
    produced.orderIds.map((id, i) => (effectAt.get(id) ?? NaN) - produced.committedAt[i]),
  );
  if (variant === 'reliable') {
    result.relayMs = percentiles(
      produced.orderIds.map((_, i) => (produced.confirmedAt[i] ?? NaN) - produced.committedAt[i]),
    );
    result.relayBatches = produced.relayBatches;
    result.meanRelayBatch = round(produced.count / Math.max(1, produced.relayBatches), 1);
    result.duplicatesSkippedByInbox = consumed.duplicatesSkipped;
  }
  result.consumerTransactions = consumed.effectTransactions;
  result.meanConsumerBatch = round(consumed.count / Math.max(1, consumed.effectTransactions), 1);
  result.roundTripsPerMessage = {
    producer: round(produced.usage.queries / Math.max(1, produced.count)),
    consumer: round(consumed.usage.queries / Math.max(1, consumed.count)),
  };
  result.statements = { producer: produced.usage.statements, consumer: consumed.usage.statements };
  if (counts) Object.assign(result, counts);
  return result;
}

export function evaluateTargets(runs: readonly RunResult[]): Target[] {
  const find = (variant: Variant, load: Load) => runs.find((r) => r.variant === variant && r.load === load);
  const targets: Target[] = [];
  const reliableFull = find('reliable', 'full');
  const unsafeFull = find('unsafe', 'full');
  if (reliableFull && unsafeFull) {
    const ratio = reliableFull.throughput / unsafeFull.throughput;
    targets.push({
      name: 'reliable throughput ≥ 75 % of unsafe (full load)',
      value: `${Math.round(ratio * 100)} % (${reliableFull.throughput} / ${unsafeFull.throughput} msg/s)`,
      met: ratio >= 0.75,
    });
  }
  const reliablePaced = find('reliable', 'paced');
  if (reliablePaced) {
    const relay = reliablePaced.relayMs?.p99 ?? Number.POSITIVE_INFINITY;
    const e2e = reliablePaced.endToEndMs?.p99 ?? Number.POSITIVE_INFINITY;
    targets.push({ name: 'paced: relay p99 ≤ 10 ms', value: `${relay} ms`, met: relay <= 10 });
    targets.push({ name: 'paced: end-to-end p99 ≤ 15 ms', value: `${e2e} ms`, met: e2e <= 15 });
  }
  const reliable = runs.filter((r) => r.variant === 'reliable');
  if (reliable.length) {
    const lost = reliable.reduce((n, r) => n + (r.lost ?? 0), 0);
    const doubled = reliable.reduce((n, r) => n + (r.doubled ?? 0), 0);
    targets.push({
      name: 'reliable: 0 lost, 0 doubled (every run, counted in the database)',
      value: `${lost} lost, ${doubled} doubled`,
      met: lost === 0 && doubled === 0,
    });
  }
  return targets;
}

const fmt = (n: number | undefined) => (n === undefined ? '–' : n.toLocaleString('en-US'));
const pair = (p: Percentiles | undefined) => (p ? `${p.p50} / ${p.p99}` : '–');

export const METHOD = `## messaging: how the figures are measured

- **Workload.** N producers (8 unless stated) in one process, each business transaction = one \`bench_orders\` row +
  one \`warehouse.stock-reserved.v1\` message; a consumer in a second process applies one \`bench_effects\` row per
  message. Each variant has its own fresh database; all share one fresh vhost whose topology is generated by
  \`buildTopology\`/\`toRabbitDefinitions\`.
- **reliable**: \`Messaging.transaction\` (row + outbox row, one transaction) → \`OutboxRelay\` (confirm channel,
  durable quorum queue) → \`QueueConsumer\` (inbox record + effect in one transaction, ack after commit).
  **unsafe**: commit the row, then \`channel.publish\` on a plain channel (persistent, no confirm) to the same
  queue; the consumer inserts the effect (autocommit) and then acks, with the same prefetch and the same number of
  database connections as the reliable consumer. **ceiling**: no database, non-persistent publish to a classic
  non-durable queue, \`noAck\` consumer.
- **Commit time**: the producer process's clock (\`performance.timeOrigin + performance.now()\`, sub-ms) when
  the transaction's COMMIT has returned (a TypeORM \`afterTransactionCommit\` subscriber). It is later than the
  commit became visible by the COMMIT reply's trip back and any event-loop delay, so latencies measured from it
  read slightly low.
- **Relay latency** = broker confirm − commit. The confirm time is the relay's own \`confirmedAt\`
  (\`Date.now()\` right after the batch's confirms settled, given to \`RelayObserver.published\`); it is whole
  milliseconds, truncated, so relay latency reads on average 0.5 ms low.
- **End-to-end latency** = effect committed − commit: the consumer process's clock (same clock source; the two
  processes agree to a few µs) when the effect's COMMIT has returned (reliable: the consumer's batch transaction,
  via the same subscriber; unsafe: the autocommit INSERT). Later than the commit itself by the reply's trip.
- **Throughput** = effects / (last effect committed − first producer commit), at full load. *commit rate* is the
  producers' own rate (commits / (last − first commit)).
- **Lost** = \`bench_orders\` rows of the run with no \`bench_effects\` row; **doubled** = orders with more than one
  effect row (the effect table has no unique constraint, so a second effect is a second row). Counted by SQL after
  the run has drained (or after a 60 s deadline).
- **Where time went**: PostgreSQL statements per message counted at \`pg.Client#query\` in each process (every
  statement is one round trip; the JSON line also has each kind's count and mean time). CPU from /proc for this
  profile's PostgreSQL, its RabbitMQ node, each side's process and the kernel's interrupt work, as CPU milliseconds
  per message: at full load the 2 cores are saturated, so throughput ≈ 2 000 / (CPU ms per message). "Other" is
  everything else on the machine (another test run, a build); a run where it exceeded 0.25 cores is marked
  *disturbed*, its figures are not comparable. The JSON line also has commit → consumer handler start
  (\`toConsumerMs\`), which splits end-to-end latency into transport and the consumer's transaction.
`;

export function markdownSection(env: Environment, runs: readonly RunResult[], targets: readonly Target[]): string {
  const s = env.settings;
  const lines = [
    `## messaging — ${env.date}`,
    '',
    `Command: \`${env.command}\``,
    '',
    `Machine: ${env.machine}. ${Object.entries(env.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}. Commit ${env.commit}.`,
    '',
    `Settings: ${s.producers} producers; ${fmt(s.messages)} messages at full load after ${fmt(s.warmup)} warm-up; ` +
      `paced ${s.pacedRate} msg/s for ${s.pacedSeconds} s; ceiling ${fmt(s.ceilingMessages)} messages. ` +
      `Relay: batchSize ${s.relay.batchSize}, workers ${s.relay.workers}, pollIntervalMs ${s.relay.pollIntervalMs}. ` +
      `Consumer: prefetch ${s.consumer.prefetch}, lanes ${s.consumer.lanes}, maxBatch ${s.consumer.maxBatch}.`,
    '',
    '| variant | load | messages | throughput msg/s | commit rate /s | relay p50 / p99 ms | end-to-end p50 / p99 ms | lost | doubled |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...runs
      .filter((r) => r.load !== 'warmup')
      .map(
        (r) =>
          `| ${r.variant}${r.cores.other > DISTURBED_OTHER_CORES ? ' (disturbed)' : ''} | ${r.load === 'paced' ? `paced ${r.ratePerSecond}/s` : 'full'} | ${fmt(r.committed)} | ` +
          `${fmt(r.throughput)} | ${fmt(r.commitRate)} | ${pair(r.relayMs)} | ${pair(r.endToEndMs)} | ` +
          `${fmt(r.lost)} | ${fmt(r.doubled)} |`,
      ),
    '',
    'Where the time went:',
    '',
    '| variant | load | PG statements / msg (producer side, consumer side) | mean relay batch | mean consumer batch | CPU ms / msg: all (postgres, rabbitmq, producer, consumer) | cores busy: machine (other) |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
    ...runs
      .filter((r) => r.load !== 'warmup')
      .map((r) => {
        const rt = r.roundTripsPerMessage;
        const c = r.cpuMsPerMessage;
        return (
          `| ${r.variant} | ${r.load} | ${rt ? `${rt.producer}, ${rt.consumer}` : '–'} | ` +
          `${fmt(r.meanRelayBatch)} | ${fmt(r.meanConsumerBatch)} | ` +
          `${c.total} (${c.postgres}, ${c.rabbitmq}, ${c.producer}, ${c.consumer}) | ${r.cores.machine} (${r.cores.other}) |`
        );
      }),
    '',
    ...(runs.some((r) => r.cores.other > DISTURBED_OTHER_CORES)
      ? [
          `(disturbed): other work on the machine used more than ${DISTURBED_OTHER_CORES} cores during that run ` +
            '("other" above); its figures are not comparable.',
          '',
        ]
      : []),
    '| target | value | met |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.name} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`),
    '',
  ];
  return lines.join('\n');
}

/** Appends the section, with the method section if the file has none yet. */
export function appendResults(path: string, section: string): Promise<void> {
  return append(path, section, METHOD);
}
