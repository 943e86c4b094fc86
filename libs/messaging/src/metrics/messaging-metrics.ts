/**
 * What an operator watches of the messaging core: the outbox's backlog and the age of its oldest due row, whether the
 * broker is connected, the relay's publish latency and failures, and what became of each queue's messages (handled,
 * duplicate, retried, dead-lettered) with each handler's time.
 *
 * Guarantee: a stuck outbox shows while it is stuck, on every replica. The outbox gauges are read from the database
 * when scraped (at most once a second, shared with the readiness check), not counted in memory, so rows a relay
 * cannot send — its process died, its broker is away, another replica wrote them — are all seen; without the database
 * a scrape still answers, with the last levels read. A consumed message is counted once, after its outcome is
 * settled: a handled one after its transaction commits, so a batch rolled back and redone message by message counts
 * each message once, and its handler's time with it.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type pg from 'pg';
import type { ConsumerObserver, Outcome } from '../consumer/queue-consumer.js';
import type { RelayObserver } from '../outbox/outbox-relay.js';
import { PENDING_STATS_SQL, type ClaimedRow } from '../outbox/outbox-store.js';

export interface OutboxStats {
  pending: number;
  oldest_age_seconds: number;
}

/** What an operator watches: outbox backlog and age, relay latency, and what happened to each queue's messages. */
export class MessagingMetrics implements RelayObserver, ConsumerObserver {
  private readonly messages: Counter<'queue' | 'type' | 'outcome'>;
  private readonly handlerDuration: Histogram<'queue' | 'type'>;
  private readonly publishLatency: Histogram;
  private readonly publishedCount: Counter;
  private readonly publishFailureCount: Counter;
  private statsCache?: { at: number; value: Promise<OutboxStats> };

  constructor(
    registry: Registry,
    private readonly pool: pg.Pool,
    brokerConnected: () => boolean,
  ) {
    // Without its database a scrape still answers, with the last levels read: the other metrics (the broker, HTTP)
    // matter most during that outage, and readiness shows the database down.
    const stats = () => this.outboxStats().catch(() => undefined);
    new Gauge({
      name: 'orderflow_outbox_pending_messages',
      help: 'Outbox rows due and not yet confirmed by the broker (delayed retries not counted until due)',
      registers: [registry],
      async collect() {
        const value = await stats();
        if (value) this.set(value.pending);
      },
    });
    new Gauge({
      name: 'orderflow_outbox_oldest_pending_age_seconds',
      help: 'How long the oldest due, unsent outbox row has been waiting (0 when none)',
      registers: [registry],
      async collect() {
        const value = await stats();
        if (value) this.set(value.oldest_age_seconds);
      },
    });
    new Gauge({
      name: 'orderflow_broker_connected',
      help: '1 while the service is connected to the broker; 0 while it reconnects (the outbox holds its messages)',
      registers: [registry],
      collect() {
        this.set(brokerConnected() ? 1 : 0);
      },
    });
    this.publishLatency = new Histogram({
      name: 'orderflow_relay_publish_latency_seconds',
      help: 'From an outbox row becoming due (its insert, or a retry delay ending) to the broker confirm',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.publishedCount = new Counter({
      name: 'orderflow_relay_published_total',
      help: 'Messages confirmed by the broker',
      registers: [registry],
    });
    this.publishFailureCount = new Counter({
      name: 'orderflow_relay_publish_failures_total',
      help: 'Messages the broker refused or could not route; they stay in the outbox and are retried',
      registers: [registry],
    });
    this.messages = new Counter({
      name: 'orderflow_messages_total',
      help: 'Consumed messages by queue, type and outcome (handled, duplicate, retried, dead-lettered)',
      labelNames: ['queue', 'type', 'outcome'],
      registers: [registry],
    });
    // The handler alone, not its batch's commit: a batch of 50 shares one COMMIT, which would blur which message
    // type is slow; the transaction's cost shows in the relay latency and the database pool.
    this.handlerDuration = new Histogram({
      name: 'orderflow_message_handling_duration_seconds',
      help: "A handler's run for one message whose effects committed, by queue and type (the shared commit not included)",
      labelNames: ['queue', 'type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  }

  /** Cached for a second, so a scrape and a readiness probe share one query. */
  outboxStats(): Promise<OutboxStats> {
    const now = Date.now();
    if (!this.statsCache || now - this.statsCache.at > 1_000) {
      const value = this.pool.query<OutboxStats>(PENDING_STATS_SQL).then((r) => r.rows[0]);
      value.catch(() => (this.statsCache = undefined));
      this.statsCache = { at: now, value };
    }
    return this.statsCache.value;
  }

  published(rows: readonly ClaimedRow[], confirmedAt: number): void {
    for (const row of rows) this.publishLatency.observe((confirmedAt - row.available_at.getTime()) / 1000);
    this.publishedCount.inc(rows.length);
  }

  failed(rows: readonly ClaimedRow[]): void {
    this.publishFailureCount.inc(rows.length);
  }

  outcome(queue: string, type: string, outcome: Outcome, count = 1): void {
    this.messages.inc({ queue, type, outcome }, count);
  }

  handlerTook(queue: string, type: string, seconds: number): void {
    this.handlerDuration.observe({ queue, type }, seconds);
  }
}
