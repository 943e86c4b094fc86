/**
 * Removes sent outbox rows and old inbox records in small batches (see docs/adr/0004), so that pruning never holds
 * long locks, never blocks a relay or a consumer (SKIP LOCKED), and leaves autovacuum a steady trickle instead of
 * a mass delete. Any replica may run it; concurrent runs share the work.
 */
import type pg from 'pg';
import { PRUNE_INBOX_SQL, PRUNE_SENT_SQL } from './outbox-store.js';

export interface PruneOptions {
  outboxRetentionMs: number;
  inboxRetentionMs: number;
  batchSize: number;
  intervalMs: number;
}

export class OutboxPruner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PruneOptions,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.pruneOnce()
        .then(() => undefined)
        .catch((err: Error) => this.onError(err))
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Prunes until a batch comes back short; returns how many rows of each table went. */
  async pruneOnce(): Promise<{ outbox: number; inbox: number }> {
    const outbox = await this.pruneTable(PRUNE_SENT_SQL, this.options.outboxRetentionMs);
    const inbox = await this.pruneTable(PRUNE_INBOX_SQL, this.options.inboxRetentionMs);
    return { outbox, inbox };
  }

  private async pruneTable(sql: string, retentionMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.pool.query(sql, [retentionMs, this.options.batchSize]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < this.options.batchSize || this.stopped) return total;
      // A breath between batches keeps the prune from competing with business traffic.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
