/**
 * Removes sent outbox rows and old inbox records in small batches (see docs/adr/0004), so that pruning never holds
 * long locks, never blocks a relay or a consumer (SKIP LOCKED), and leaves autovacuum a steady trickle instead of
 * a mass delete. Any replica may run it; concurrent runs share the work.
 */
import { BatchedMaintenance } from '@orderflow/platform';
import type pg from 'pg';
import { PRUNE_INBOX_SQL, PRUNE_SENT_SQL } from './outbox-store.js';

export interface PruneOptions {
  outboxRetentionMs: number;
  inboxRetentionMs: number;
  batchSize: number;
  intervalMs: number;
}

export class OutboxPruner {
  private readonly maintenance: BatchedMaintenance;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PruneOptions,
    onError: (err: Error) => void,
  ) {
    this.maintenance = new BatchedMaintenance(() => this.pruneOnce(), options.intervalMs, onError);
  }

  start(): void {
    this.maintenance.start();
  }

  async stop(): Promise<void> {
    await this.maintenance.stop();
  }

  /** Prunes until a batch comes back short; returns how many rows of each table went. */
  async pruneOnce(): Promise<{ outbox: number; inbox: number }> {
    const outbox = await this.pruneTable(PRUNE_SENT_SQL, this.options.outboxRetentionMs);
    const inbox = await this.pruneTable(PRUNE_INBOX_SQL, this.options.inboxRetentionMs);
    return { outbox, inbox };
  }

  private pruneTable(sql: string, retentionMs: number): Promise<number> {
    return this.maintenance.batches(async () => {
      const { rowCount } = await this.pool.query(sql, [retentionMs, this.options.batchSize]);
      return rowCount ?? 0;
    }, this.options.batchSize);
  }
}
