/**
 * The faults the chaos suite injects, each a real event on this machine: a process killed with SIGKILL (a crash, not
 * a shutdown), the broker node or the database restarted by the profile's own control scripts, the service queues
 * meddled with by a second AMQP client. Every fault ends with what it broke running again, so the next one starts
 * from a whole suite; what the suite does meanwhile is what the run's checks judge.
 *
 * Continuous faults (webhooks the third parties drop, gateway errors) are not injected here: they are settings of
 * the run (the simulators' WEBHOOK_DROP_RATE, the share of orders paid with a flaky or asynchronous test token).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ORDERFLOW_ROUTING } from '@orderflow/contracts';
import type { Suite } from '../bench/suite/processes.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const SERVICE_FAULTS = ['kill order', 'kill payment', 'kill warehouse', 'kill logistics', 'kill saga'] as const;
export const FAULT_KINDS = [
  ...SERVICE_FAULTS,
  'restart payment-gateway',
  'restart carrier',
  'restart broker',
  'restart postgres (fast)',
  'restart postgres (immediate)',
  'meddle with queues',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface InjectedFault {
  kind: FaultKind;
  /** Which process, or what was done. */
  target: string;
  /** Seconds since the load started. */
  at: number;
  /** How long until what it broke was running again. */
  seconds: number;
  detail?: string;
}

/** A small deterministic generator (mulberry32), so a run's choices repeat with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The order faults come in: every kind once in a shuffled first round (so a short run meets each), then any kind at
 * random.
 */
export function faultSequence(kinds: readonly FaultKind[], random: () => number): () => FaultKind {
  const firstRound = [...kinds];
  for (let i = firstRound.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [firstRound[i], firstRound[j]] = [firstRound[j], firstRound[i]];
  }
  let next = 0;
  return () => (next < firstRound.length ? firstRound[next++] : kinds[Math.floor(random() * kinds.length)]);
}

export interface FaultContext {
  suite: Suite;
  random: () => number;
  /** The profile's admin AMQP URL (the meddler takes deliveries from every queue with it). */
  amqpAdminUrl: string;
  /**
   * Each service's AMQP URL: the meddler puts a message back on a queue as the queue's owner (through
   * orderflow.retry, as a retry would), the only sender its consumers accept it from there.
   */
  amqpUrls: Readonly<Record<string, string>>;
  /** How long the meddler takes deliveries for. */
  meddleSeconds: number;
}

export async function inject(kind: FaultKind, ctx: FaultContext): Promise<{ target: string; detail?: string }> {
  const downMs = () => Math.round(500 + ctx.random() * 2_500);
  if (kind.startsWith('kill ')) {
    const group = kind.slice('kill '.length);
    const replicas = ctx.suite.processes().filter((p) => p.group === group && p.kind === 'service');
    const victim = replicas[Math.floor(ctx.random() * replicas.length)];
    await ctx.suite.restart(victim.label, 'SIGKILL', downMs());
    return { target: `${victim.label} (pid ${victim.pid})` };
  }
  if (kind === 'restart payment-gateway' || kind === 'restart carrier') {
    const label = `${kind.slice('restart '.length)}-simulator`;
    await ctx.suite.restart(label, 'SIGKILL', downMs());
    return { target: label };
  }
  if (kind === 'restart broker') {
    await run('bash', [`${ROOT}scripts/broker-ctl.sh`, 'restart'], { env: process.env });
    return { target: 'RabbitMQ node' };
  }
  if (kind === 'restart postgres (fast)' || kind === 'restart postgres (immediate)') {
    const mode = kind.includes('immediate') ? 'immediate' : 'fast';
    await run('bash', [`${ROOT}scripts/postgres-ctl.sh`, 'restart', mode], { env: process.env });
    return { target: `PostgreSQL, -m ${mode}` };
  }
  const queues = ORDERFLOW_ROUTING.queues.map((q) => q.name);
  const owners = Object.fromEntries(ORDERFLOW_ROUTING.queues.map((q) => [q.name, ctx.amqpUrls[q.service]]));
  const { stdout } = await run('/usr/bin/python3', [
    fileURLToPath(new URL('./meddle_with_pika.py', import.meta.url)),
    ctx.amqpAdminUrl,
    JSON.stringify(owners),
    String(ctx.meddleSeconds),
    '1500',
    '0.5',
    ...queues,
  ]);
  return { target: queues.join(', '), detail: stdout.trim() };
}
