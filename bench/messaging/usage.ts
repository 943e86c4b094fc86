/**
 * Where a side's time goes while a run lasts: its own CPU, how busy its event loop was, and each kind of statement
 * it sent to PostgreSQL — how many, and how long each took from send to reply. Statements are counted at
 * `pg.Client#query`, which TypeORM, the relay's pool and the consumer all go through, so "round trips per message"
 * is measured, not estimated.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import pg from 'pg';
import type { SideUsage } from './protocol.js';

interface StatementStats {
  count: number;
  totalMs: number;
}

let queries = 0;
let statements = new Map<string, StatementStats>();

const kinds = new Map<string, string>();

/** A statement's kind: its first words, e.g. `INSERT INTO bench_orders`, `UPDATE outbox_messages AS o`. */
function kindOf(text: unknown): string {
  const sql = typeof text === 'string' ? text : ((text as { text?: string } | undefined)?.text ?? '?');
  let kind = kinds.get(sql);
  if (kind === undefined) {
    const words = sql.trim().replace(/\s+/g, ' ').split(' ');
    kind = words.slice(0, words[0] === 'WITH' ? 7 : 4).join(' ');
    kinds.set(sql, kind);
  }
  return kind;
}

function record(kind: string, startedAt: number): void {
  const stats = statements.get(kind) ?? { count: 0, totalMs: 0 };
  stats.count += 1;
  stats.totalMs += performance.now() - startedAt;
  statements.set(kind, stats);
}

const client = pg.Client.prototype as unknown as { query: (this: pg.Client, ...args: unknown[]) => unknown };
const originalQuery = client.query;
client.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  queries += 1;
  const kind = kindOf(args[0]);
  const startedAt = performance.now();
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    args[args.length - 1] = (...result: unknown[]) => {
      record(kind, startedAt);
      return (last as (...r: unknown[]) => unknown)(...result);
    };
    return originalQuery.apply(this, args);
  }
  const answer = originalQuery.apply(this, args);
  if (answer instanceof Promise)
    void answer.then(
      () => record(kind, startedAt),
      () => record(kind, startedAt),
    );
  return answer;
};

export class UsageMeter {
  private cpu = process.cpuUsage();
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  private queries = queries;

  reset(): void {
    this.cpu = process.cpuUsage();
    this.elu = performance.eventLoopUtilization();
    this.queries = queries;
    statements = new Map();
  }

  read(): SideUsage {
    const cpu = process.cpuUsage(this.cpu);
    return {
      cpuMs: (cpu.user + cpu.system) / 1_000,
      eventLoopUtilization: performance.eventLoopUtilization(this.elu).utilization,
      queries: queries - this.queries,
      statements: Object.fromEntries(
        [...statements]
          .sort((a, b) => b[1].totalMs - a[1].totalMs)
          .map(([kind, s]) => [kind, { count: s.count, meanMs: Math.round((s.totalMs / s.count) * 100) / 100 }]),
      ),
    };
  }
}
