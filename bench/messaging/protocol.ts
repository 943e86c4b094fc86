/**
 * The benchmark runs each side in its own process, as services are deployed: the producer side (the producing
 * transactions, plus the relay where there is one) and the consumer side. This is what the orchestrator and the
 * two sides say to each other over the fork IPC channel.
 */
import type { ConsumerOptions, RelayOptions } from '@orderflow/messaging';

export type Variant = 'reliable' | 'unsafe' | 'ceiling';
export type Load = 'warmup' | 'full' | 'paced';

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Two processes of one machine agree on it to a few
 * microseconds (their `timeOrigin`s are read from the same clock), so a commit stamped by one side and an effect
 * stamped by the other can be subtracted.
 */
export const now = (): number => performance.timeOrigin + performance.now();

export interface SideConfig {
  variant: Variant;
  /** Absent for the ceiling, which has no database. */
  databaseUrl?: string;
  amqpUrl: string;
  producers: number;
  relay: Pick<RelayOptions, 'batchSize' | 'workers' | 'pollIntervalMs'>;
  consumer: Pick<ConsumerOptions, 'prefetch' | 'lanes' | 'maxBatch'>;
}

export interface RunPlan {
  /** Also the business rows' `run` column, so each run's lost and doubled are counted apart. */
  run: string;
  load: Load;
  messages: number;
  /** Offered rate over all producers; absent = as fast as the producers go. */
  ratePerSecond?: number;
}

/** What a side used while a run lasted. */
export interface SideUsage {
  cpuMs: number;
  eventLoopUtilization: number;
  /** Statements sent to PostgreSQL (each one a round trip). */
  queries: number;
  /** Per kind of statement: how many, and the mean time from send to reply. */
  statements: Record<string, { count: number; meanMs: number }>;
}

export interface Produced {
  type: 'produced';
  /** Business transactions committed (messages published, for the ceiling). */
  count: number;
  /** The first commit (first publish, for the ceiling). */
  firstAt: number;
  /** Per message, empty for the ceiling. */
  orderIds: string[];
  committedAt: number[];
  /** Broker confirm per message (reliable only; null where none came). */
  confirmedAt: (number | null)[];
  failures: number;
  relayBatches: number;
  relayFailed: number;
  usage: SideUsage;
}

export interface Consumed {
  type: 'consumed';
  /** Distinct orders whose effect committed since the last collect (messages received, for the ceiling). */
  count: number;
  /** The last effect commit (last delivery, for the ceiling). */
  lastAt: number;
  /** Per order, empty for the ceiling. */
  orderIds: string[];
  effectAt: number[];
  /** When the consumer began handling each order's message (the handler's start), beside `orderIds`. */
  reachedAt: number[];
  /** Effects applied again to an order that already had one, as this process saw them. */
  repeatedEffects: number;
  /** Transactions that committed effects, and how many effects they held in all. */
  effectTransactions: number;
  duplicatesSkipped: number;
  failures: number;
  usage: SideUsage;
}

export type ToSide =
  | { type: 'init'; config: SideConfig }
  | { type: 'run'; plan: RunPlan }
  | { type: 'await'; distinctEffects: number; timeoutMs: number }
  | { type: 'collect' }
  | { type: 'stop' };

export type FromSide =
  | { type: 'ready' }
  | Produced
  | { type: 'reached'; timedOut: boolean }
  | Consumed
  | { type: 'stopped' }
  | { type: 'failed'; error: string };

/** The child's half: handle the orchestrator's messages one at a time, answer, and exit when told to stop. */
export function serveSide(handle: (message: ToSide) => Promise<FromSide | undefined>): void {
  let queue = Promise.resolve();
  const send = (message: FromSide) =>
    new Promise<void>((resolve, reject) =>
      process.send!(message, undefined, {}, (err) => (err ? reject(err) : resolve())),
    );
  process.on('message', (message: ToSide) => {
    queue = queue.then(async () => {
      try {
        const answer = await handle(message);
        if (answer) await send(answer);
        if (message.type === 'stop') {
          process.disconnect();
          // Everything is closed by now; a handle some library left open must not keep the process alive.
          setTimeout(() => process.exit(), 2_000).unref();
        }
      } catch (err) {
        await send({ type: 'failed', error: (err as Error).stack ?? String(err) }).catch(() => undefined);
        process.exitCode = 1;
        process.disconnect();
      }
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export const benchLogger = {
  log: (_message: unknown) => undefined,
  warn: (message: unknown) => console.error(`[warn] ${JSON.stringify(message)}`),
  error: (message: unknown) => console.error(`[error] ${JSON.stringify(message)}`),
};
