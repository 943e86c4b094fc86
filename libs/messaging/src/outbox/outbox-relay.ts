/**
 * Publishes what the outbox holds, at least once, in order per ordering key.
 *
 * Guarantee: a row committed to the outbox reaches the broker — a crash after commit and before publish is covered
 * because the row stays unsent until a confirm arrives; a crash after publish and before the confirmed rows are
 * deleted republishes the row when its lease expires (the consumer's inbox turns that duplicate into a no-op).
 *
 * How, for this process's own commits (the hot path): the writer's INSERT reserved its rows for this relay (a lease
 * set in the same statement, see outbox-store.ts) and hands them over after the commit; dispatchers publish them
 * from memory, several transactions to a batch, on a confirm channel with `mandatory` (an unroutable message is an
 * error that keeps the row pending, not silence), await the batch's confirms and delete the confirmed rows in one
 * statement (or mark them sent, with `keepSent`). No claim query, no lease write: two statements per batch fewer
 * than the poll, and no wait for it. A crash between
 * commit and confirm leaves the rows leased; when the lease runs out the poll finds them.
 *
 * For everything else (rows not reserved: a key with an earlier unsent row, delayed retries, rows whose publish
 * failed, rows of a dead process once their lease expired) workers claim a batch under a short lease (no transaction
 * is held while the broker confirms) and publish it the same way. Several workers keep batches in flight. They wake
 * when a writer hands over rows it could not reserve and after a hot-path batch is confirmed (a row waiting behind it
 * may now go), and poll as the guarantee: a wake-up is only a hint, and a row it missed is found by the next claim.
 * Every writer is a service with its relay in-process; none of them NOTIFY, so the relay does not LISTEN (ADR 0003).
 */
import type { ConfirmChannel } from 'amqplib';
import { PreparingClient } from '@orderflow/platform';
import pg from 'pg';
import type { BrokerConnection } from '../broker/broker-connection.js';
import { endSpan, startPublishSpan } from '../envelope/trace-context.js';
import {
  type AppendedRow,
  CLAIM_SQL,
  type ClaimedRow,
  DEFER_SQL,
  DELETE_SENT_SQL,
  MARK_SENT_SQL,
  RELEASE_SQL,
} from './outbox-store.js';
import type { MessagingLogger } from '../logger.js';

export interface RelayOptions {
  /** Rows per claim, and per batch of handed-over rows. */
  batchSize: number;
  /** Claimed batches in flight at once, and handed-over batches in flight at once. */
  workers: number;
  /** The poll that finds what no wake-up announced: another process's rows, leases run out, retries come due. */
  pollIntervalMs: number;
  /** How long a claim or a reservation is exclusive; a relay that dies mid-batch delays its rows by at most this. */
  leaseMs: number;
  /**
   * Keep confirmed rows, marked sent, for the pruner to delete after a retention period (for inspection), instead of
   * deleting them at once. Costs a second row version and its index entries per message (bench/RESULTS.md).
   */
  keepSent: boolean;
}

/** Where a writer hands the outbox rows of a transaction it committed. */
export interface OutboxHandoff {
  /** How long rows written now may be reserved for this process's relay; undefined when it publishes none itself. */
  readonly reservationMs: number | undefined;
  /** The rows of one committed transaction, as `appendToOutbox` returned them. */
  committed(rows: readonly AppendedRow[]): void;
}

/** A handoff to no relay of this process: every row waits for a claim (a writer without a relay, or a test). */
export const CLAIM_ONLY: OutboxHandoff = { reservationMs: undefined, committed: () => undefined };

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
  batchSize: 200,
  workers: 2,
  pollIntervalMs: 1_000,
  leaseMs: 30_000,
  keepSent: false,
};

/**
 * The relay's own small pool. Its sessions plan the claim as a walk of `outbox_messages_unsent` in id order, whatever
 * the statistics say, because only that walk stays cheap between vacuums: the scan marks the index entries of rows
 * already sent as dead as it passes them, and the next claim skips them.
 * - No bitmap scans: a bitmap scan cannot mark entries dead, so every claim revisited every sent row (measured 3–6 ms
 *   and thousands of buffers per claim at load, against 0.2 ms with an index scan; bench/RESULTS.md).
 * - No sorts and no sequential scans: with the near-empty statistics a queue table often has, the planner also
 *   liked reading the table, or `outbox_messages_unsent_by_key`, whole and sorting by id. Marking entries dead fails
 *   on the pages of that index, which the inserts of random order ids change all the time, and a sequential scan
 *   reads every dead row, so such claims reread thousands of dead rows each (37,000 buffers per claim,
 *   bench/RESULTS.md, 2026-12-05). Every statement the relay runs reaches its rows through an index, so neither
 *   setting takes a good plan away. `claim-plan.int-spec.ts` holds the plan.
 */
export function relayPool(
  databaseUrl: string,
  workers: number,
  applicationName: string,
  preparedStatements = true,
): pg.Pool {
  return new pg.Pool({
    ...(preparedStatements && { Client: PreparingClient }),
    connectionString: databaseUrl,
    max: workers + 1,
    application_name: applicationName,
    options: '-c enable_bitmapscan=off -c enable_sort=off -c enable_seqscan=off',
  });
}

const UNROUTABLE = 'unroutable: no queue is bound for this routing key';
const UNCONFIRMED = 'not confirmed by the broker';

export interface RelayObserver {
  published(rows: readonly ClaimedRow[], confirmedAt: number): void;
  failed(rows: readonly ClaimedRow[], error: Error): void;
}

export class OutboxRelay implements OutboxHandoff {
  private running = false;
  /** Handed-over transactions not yet taken by a dispatcher, oldest first; each keeps its rows together. */
  private readonly handedOver: ClaimedRow[][] = [];
  private readonly dispatchers = new Set<Promise<void>>();
  private readonly idleChannels: ConfirmChannel[] = [];
  /**
   * Rows handed over unreserved and due now, less rows claimed since: while above zero, a sent hot-path batch wakes
   * the claim (those rows may have waited behind it). A hint only: a wrong count costs one poll interval, not a row.
   */
  private waitingToBeClaimed = 0;
  private readonly waiters = new Set<() => void>();
  private signalled = false;
  private readonly loops: Promise<void>[] = [];
  private readonly closedChannels = new WeakSet<ConfirmChannel>();
  private readonly options: RelayOptions;

  constructor(
    private readonly pool: pg.Pool,
    private readonly broker: BrokerConnection,
    private readonly logger: MessagingLogger,
    private readonly observer: RelayObserver,
    options: Partial<RelayOptions> = {},
  ) {
    this.options = { ...DEFAULT_RELAY_OPTIONS, ...options };
    // An idle pooled connection that PostgreSQL closes (a restart, a failover, a dropped database) is an 'error' on
    // the pool; unheard, Node treats it as fatal and the service would crash. The pool discards that connection and
    // the next query opens another, so it is only worth a warning.
    pool.on('error', (err) => this.logger.warn({ message: 'relay pool lost an idle connection', reason: err.message }));
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.workers; i += 1) this.loops.push(this.work(i));
  }

  get reservationMs(): number | undefined {
    return this.running ? this.options.leaseMs : undefined;
  }

  committed(rows: readonly AppendedRow[]): void {
    const reserved: ClaimedRow[] = [];
    for (const row of rows) {
      if (!row.reserved) continue;
      reserved.push({
        id: row.id,
        message_id: row.messageId,
        exchange: row.exchange,
        routing_key: row.routingKey,
        properties: row.properties,
        body: row.body,
        available_at: new Date(),
        publish_attempts: 0,
      });
    }
    const unreservedDue = rows.filter((r) => !r.reserved && !(r.delayMs && r.delayMs > 0)).length;
    if (reserved.length < rows.length) {
      this.waitingToBeClaimed += unreservedDue;
      this.wake();
    }
    if (reserved.length === 0) return;
    this.handedOver.push(reserved);
    if (this.dispatchers.size < this.options.workers) {
      const dispatcher = this.dispatch().finally(() => this.dispatchers.delete(dispatcher));
      this.dispatchers.add(dispatcher);
    }
  }

  /** Look for work to claim now: rows a writer could not reserve, and rows freed by a sent batch. */
  wake(): void {
    this.signalled = true;
    for (const waiter of this.waiters) waiter();
  }

  /** Stops claiming; batches in flight and rows already handed over finish (published and marked, or released). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all(this.loops);
    this.loops.length = 0;
    while (this.dispatchers.size > 0) await Promise.all(this.dispatchers);
    for (const channel of this.idleChannels.splice(0)) await channel.close().catch(() => undefined);
  }

  private async work(worker: number): Promise<void> {
    let channel: ConfirmChannel | undefined;
    while (this.running) {
      try {
        if (channel && this.closedChannels.has(channel)) channel = undefined;
        channel ??= await this.openChannel();
        const claimed = await this.claimBatch(channel);
        // A claim skips rows queued behind an unsent row of their key, even one in the same claim: once a batch is
        // sent, such rows may be free, so look again before idling.
        if (claimed === 0) await this.idle();
      } catch (err) {
        // Close what we abandon: a channel left open per failure would exhaust the connection's channels.
        await channel?.close().catch(() => undefined);
        channel = undefined;
        this.logger.warn({ message: 'outbox relay batch failed; retrying', worker, reason: (err as Error).message });
        // A plain pause, not idle(): a wake-up must not turn a persistent failure into a busy loop.
        await new Promise((resolve) => setTimeout(resolve, Math.min(this.options.pollIntervalMs, 500)));
      }
    }
    await channel?.close().catch(() => undefined);
  }

  /** A dispatcher's channel left open by an earlier dispatcher, unless it has closed since. */
  private takeIdleChannel(): ConfirmChannel | undefined {
    let channel = this.idleChannels.pop();
    while (channel && this.closedChannels.has(channel)) channel = this.idleChannels.pop();
    return channel;
  }

  private async openChannel(): Promise<ConfirmChannel> {
    const channel = await this.broker.confirmChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => this.closedChannels.add(channel));
    return channel;
  }

  /**
   * Publishes handed-over transactions until none is left, whole transactions to a batch, on a channel of its own.
   * A failed batch's rows are back in the outbox (released), where the claim finds them.
   */
  private async dispatch(): Promise<void> {
    let channel: ConfirmChannel | undefined;
    try {
      while (this.handedOver.length > 0) {
        const batch: ClaimedRow[] = [];
        while (this.handedOver.length > 0 && batch.length < this.options.batchSize)
          batch.push(...this.handedOver.shift()!);
        try {
          if (channel && this.closedChannels.has(channel)) channel = undefined;
          channel ??= this.takeIdleChannel() ?? (await this.openChannel());
        } catch (err) {
          // No channel (the broker is away): give the rows back now rather than when their reservation runs out.
          await this.pool.query(RELEASE_SQL, [batch.map((r) => r.id), (err as Error).message]).catch(() => undefined);
          this.logger.warn({
            message: 'outbox rows handed over were not published; the poll retries them',
            reason: (err as Error).message,
          });
          this.wake();
          continue;
        }
        try {
          await this.publishBatch(channel, batch);
        } catch (err) {
          await channel?.close().catch(() => undefined);
          channel = undefined;
          this.logger.warn({
            message: 'outbox rows handed over were not published; the poll retries them',
            reason: (err as Error).message,
          });
        }
        // Rows of the same keys that could not be reserved may have waited for these to be sent.
        if (this.waitingToBeClaimed > 0) this.wake();
      }
    } finally {
      if (channel && !this.closedChannels.has(channel)) {
        if (this.running) this.idleChannels.push(channel);
        else await channel.close().catch(() => undefined);
      }
    }
  }

  /** One claim → publish → confirm → mark cycle. Returns how many rows were claimed. */
  private async claimBatch(channel: ConfirmChannel): Promise<number> {
    this.signalled = false;
    const { rows } = await this.pool.query<ClaimedRow>(CLAIM_SQL, [this.options.batchSize, this.options.leaseMs]);
    if (rows.length === 0) return 0;
    this.waitingToBeClaimed = Math.max(0, this.waitingToBeClaimed - rows.length);
    await this.publishBatch(channel, rows);
    return rows.length;
  }

  /** Publish → confirm → settle: confirmed rows are deleted (or marked sent), the others given back to the claim. */
  private async publishBatch(channel: ConfirmChannel, rows: readonly ClaimedRow[]): Promise<void> {
    const returned = new Set<string>();
    const onReturn = (msg: { properties: { messageId?: string } }) => {
      if (msg.properties.messageId) returned.add(msg.properties.messageId);
    };
    channel.on('return', onReturn);
    // One span per row, from publish to the broker's confirm (or to the failure of the batch).
    const spans = rows.map((row) =>
      startPublishSpan({
        messageId: row.message_id,
        exchange: row.exchange,
        routingKey: row.routing_key,
        properties: row.properties,
      }),
    );
    let spansEnded = false;
    try {
      const confirms = rows.map(
        (row) =>
          new Promise<void>((resolve, reject) => {
            // `userId` names this service as the sender; the broker refuses the publish if it is not the user this
            // connection authenticated as, so consumers can trust it (consumer/publisher-check.ts).
            const properties = { ...row.properties, userId: this.broker.user, mandatory: true };
            channel.publish(row.exchange, row.routing_key, row.body, properties, (err) =>
              err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
            );
          }),
      );
      const settled = await Promise.allSettled(confirms);
      const confirmedAt = Date.now();
      const nacked = new Set(rows.filter((_, i) => settled[i].status === 'rejected'));
      rows.forEach((row, i) =>
        endSpan(
          spans[i],
          nacked.has(row) ? 'not confirmed by the broker' : returned.has(row.message_id) ? 'unroutable' : undefined,
        ),
      );
      spansEnded = true;
      await this.settle(rows, nacked, returned, confirmedAt);
    } catch (err) {
      if (!spansEnded) for (const span of spans) endSpan(span, err as Error);
      // The channel died mid-batch: give the rows back now instead of waiting for the lease to expire.
      await this.pool.query(RELEASE_SQL, [rows.map((r) => r.id), (err as Error).message]).catch(() => undefined);
      throw err;
    } finally {
      channel.off('return', onReturn);
    }
    // The channel went down mid-batch: its rows are back in the outbox; the worker opens a new channel.
    if (this.closedChannels.has(channel)) throw new Error('channel closed during a batch');
  }

  /**
   * Confirmed rows are deleted (or marked sent); unroutable ones deferred with a growing backoff; rows the broker did
   * not confirm given back to the claim at once.
   */
  private async settle(
    rows: readonly ClaimedRow[],
    nacked: ReadonlySet<ClaimedRow>,
    returned: ReadonlySet<string>,
    confirmedAt: number,
  ): Promise<void> {
    const failed = rows.filter((r) => nacked.has(r) || returned.has(r.message_id));
    const ok = rows.filter((r) => !nacked.has(r) && !returned.has(r.message_id));
    const unroutable = failed.filter((r) => returned.has(r.message_id));
    const unconfirmed = failed.filter((r) => !returned.has(r.message_id));
    if (ok.length) {
      await this.pool.query(this.options.keepSent ? MARK_SENT_SQL : DELETE_SENT_SQL, [ok.map((r) => r.id)]);
      this.observer.published(ok, confirmedAt);
    }
    if (unroutable.length) {
      await this.pool.query(DEFER_SQL, [unroutable.map((r) => r.id), UNROUTABLE]);
    }
    if (unconfirmed.length) await this.pool.query(RELEASE_SQL, [unconfirmed.map((r) => r.id), UNCONFIRMED]);
    if (failed.length === 0) return;
    const reason = unroutable.length ? UNROUTABLE : UNCONFIRMED;
    this.observer.failed(failed, new Error(reason));
    this.logger.error({
      message: 'outbox messages not published; will retry',
      reason,
      messages: failed.slice(0, 10).map((r) => ({ id: r.message_id, exchange: r.exchange, routingKey: r.routing_key })),
    });
  }

  private idle(ms = this.options.pollIntervalMs): Promise<void> {
    if (this.signalled || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
