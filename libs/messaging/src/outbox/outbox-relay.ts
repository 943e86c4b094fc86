/**
 * Publishes what the outbox holds, at least once, in order per ordering key.
 *
 * Guarantee: a row committed to the outbox reaches the broker — a crash after commit and before publish is covered
 * because the row stays unsent until a confirm arrives; a crash after publish and before `markSent` republishes the
 * row when its lease expires (the consumer's inbox turns that duplicate into a no-op).
 *
 * How: workers claim a batch under a short lease (no transaction is held while the broker confirms), publish it on
 * a confirm channel with `mandatory` (an unroutable message is an error that keeps the row pending, not silence),
 * await the batch's confirms, and mark the batch sent in one statement. Several workers keep batches in flight.
 * They wake at once for this process's own commits, on NOTIFY orderflow_outbox (for writers without a relay of
 * their own), and poll as a fallback: a wake-up is only a hint, and a row it missed is found by the next claim.
 */
import type { ConfirmChannel } from 'amqplib';
import pg from 'pg';
import type { BrokerConnection } from '../broker/broker-connection.js';
import { endSpan, startPublishSpan } from '../envelope/trace-context.js';
import { CLAIM_SQL, type ClaimedRow, DEFER_SQL, MARK_SENT_SQL, OUTBOX_CHANNEL, RELEASE_SQL } from './outbox-store.js';

export interface RelayOptions {
  /** Rows per claim. */
  batchSize: number;
  /** Batches in flight at once. */
  workers: number;
  /** Fallback poll when no notification arrives. */
  pollIntervalMs: number;
  /** How long a claim is exclusive; a relay that dies mid-batch delays its rows by at most this. */
  leaseMs: number;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
  batchSize: 200,
  workers: 2,
  pollIntervalMs: 1_000,
  leaseMs: 30_000,
};

/**
 * The relay's own small pool. Its sessions plan the claim without bitmap scans: a bitmap scan cannot mark the
 * index entries of rows already sent as dead, so between vacuums every claim revisited every sent row (measured
 * 3–6 ms and thousands of buffers per claim at load, against 0.2 ms with an index scan; bench/RESULTS.md).
 */
export function relayPool(databaseUrl: string, workers: number, applicationName: string): pg.Pool {
  return new pg.Pool({
    connectionString: databaseUrl,
    max: workers + 1,
    application_name: applicationName,
    options: '-c enable_bitmapscan=off',
  });
}

export interface RelayObserver {
  published(rows: readonly ClaimedRow[], confirmedAt: number): void;
  failed(rows: readonly ClaimedRow[], error: Error): void;
}

interface Logger {
  log(message: object): void;
  warn(message: object): void;
  error(message: object): void;
}

export class OutboxRelay {
  private running = false;
  private readonly waiters = new Set<() => void>();
  private signalled = false;
  private listener?: pg.Client;
  private readonly loops: Promise<void>[] = [];
  private readonly closedChannels = new WeakSet<ConfirmChannel>();
  private readonly options: RelayOptions;

  constructor(
    private readonly pool: pg.Pool,
    private readonly broker: BrokerConnection,
    private readonly listenUrl: string | undefined,
    private readonly logger: Logger,
    private readonly observer: RelayObserver,
    options: Partial<RelayOptions> = {},
  ) {
    this.options = { ...DEFAULT_RELAY_OPTIONS, ...options };
  }

  async start(): Promise<void> {
    this.running = true;
    await this.listen();
    for (let i = 0; i < this.options.workers; i += 1) this.loops.push(this.work(i));
  }

  /** Look for work now: called after this process commits outbox rows, and on every NOTIFY. */
  wake(): void {
    this.signalled = true;
    for (const waiter of this.waiters) waiter();
  }

  /** Stops claiming; batches in flight finish (published and marked, or released). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all(this.loops);
    this.loops.length = 0;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  private async listen(): Promise<void> {
    if (!this.listenUrl) return;
    const client = new pg.Client({ connectionString: this.listenUrl, application_name: 'outbox-relay-listener' });
    client.on('notification', () => this.wake());
    client.on('error', (err) => {
      // The poll keeps the relay going; the listener comes back with the next start or on reconnect below.
      this.logger.warn({ message: 'outbox listener lost; polling until it is back', reason: err.message });
      this.listener = undefined;
      setTimeout(() => void this.reconnectListener(), 1_000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.listener = client;
  }

  private async reconnectListener(): Promise<void> {
    if (!this.running || this.listener) return;
    try {
      await this.listen();
    } catch {
      setTimeout(() => void this.reconnectListener(), 2_000).unref();
    }
  }

  private async work(worker: number): Promise<void> {
    let channel: ConfirmChannel | undefined;
    while (this.running) {
      try {
        if (channel && this.closedChannels.has(channel)) channel = undefined;
        channel ??= await this.openChannel();
        const published = await this.relayBatch(channel);
        if (published < this.options.batchSize) await this.idle();
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

  private async openChannel(): Promise<ConfirmChannel> {
    const channel = await this.broker.confirmChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => this.closedChannels.add(channel));
    return channel;
  }

  /** One claim → publish → confirm → mark cycle. Returns how many rows were claimed. */
  private async relayBatch(channel: ConfirmChannel): Promise<number> {
    this.signalled = false;
    const { rows } = await this.pool.query<ClaimedRow>(CLAIM_SQL, [this.options.batchSize, this.options.leaseMs]);
    if (rows.length === 0) return 0;

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
            channel.publish(row.exchange, row.routing_key, row.body, { ...row.properties, mandatory: true }, (err) =>
              err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
            );
          }),
      );
      const settled = await Promise.allSettled(confirms);
      const confirmedAt = Date.now();
      const ok: ClaimedRow[] = [];
      const failed: ClaimedRow[] = [];
      rows.forEach((row, i) => {
        const nacked = settled[i].status === 'rejected';
        (nacked || returned.has(row.message_id) ? failed : ok).push(row);
        endSpan(
          spans[i],
          nacked ? 'not confirmed by the broker' : returned.has(row.message_id) ? 'unroutable' : undefined,
        );
      });
      spansEnded = true;
      if (ok.length) {
        await this.pool.query(MARK_SENT_SQL, [ok.map((r) => r.id)]);
        this.observer.published(ok, confirmedAt);
      }
      const unroutable = failed.filter((r) => returned.has(r.message_id));
      const nacked = failed.filter((r) => !returned.has(r.message_id));
      if (unroutable.length) {
        await this.pool.query(DEFER_SQL, [
          unroutable.map((r) => r.id),
          'unroutable: no queue is bound for this routing key',
        ]);
      }
      if (nacked.length) await this.pool.query(RELEASE_SQL, [nacked.map((r) => r.id), 'not confirmed by the broker']);
      if (failed.length) {
        const reason = unroutable.length
          ? 'unroutable: no queue is bound for this routing key'
          : 'not confirmed by the broker';
        const error = new Error(reason);
        this.observer.failed(failed, error);
        this.logger.error({
          message: 'outbox messages not published; will retry',
          reason,
          messages: failed
            .slice(0, 10)
            .map((r) => ({ id: r.message_id, exchange: r.exchange, routingKey: r.routing_key })),
        });
      }
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
    return rows.length;
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
