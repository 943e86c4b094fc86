/**
 * The consuming service, in its own process.
 * - reliable: the library's `QueueConsumer`; the handler inserts the effect through its unit of work, so the
 *   inbox record and the effect commit together, and the delivery is acknowledged after that commit.
 * - unsafe: a plain consumer on the same queue with the same prefetch and the same number of database
 *   connections: insert the effect (autocommit), then ack. No inbox.
 * - ceiling: `noAck: true`, no database: count deliveries.
 * An effect is stamped when its commit has returned (`CommitClock` for the library's transactions, right after the
 * autocommit INSERT for the unsafe consumer).
 */
import { hostname } from 'node:os';
import {
  BrokerConnection,
  CLAIM_ONLY,
  type ConsumerObserver,
  decode,
  type IncomingMessage,
  type Outcome,
  publisherCheckFor,
  QueueConsumer,
  type UnitOfWork,
} from '@orderflow/messaging';
import type { DataOf } from '@orderflow/contracts';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { DataSource } from 'typeorm';
import { CommitClock } from './commit-clock.js';
import { benchLogger, type Consumed, now, serveSide, type SideConfig, sleep, type ToSide } from './protocol.js';
import {
  BENCH_QUEUE,
  BENCH_SERVICE,
  BenchEvent,
  benchDataSource,
  benchRouting,
  CEILING_QUEUE,
  INSERT_EFFECT_SQL,
} from './setup.js';
import { UsageMeter } from './usage.js';

class ConsumerSide {
  private broker?: BrokerConnection;
  private dataSource?: DataSource;
  private consumer?: QueueConsumer;
  private channel?: Channel;
  private readonly effects = new Set<string>();
  private readonly reached = new Map<string, number>();
  private fresh: { orderIds: string[]; effectAt: number[] } = { orderIds: [], effectAt: [] };
  private received = 0;
  private lastAt = 0;
  private repeatedEffects = 0;
  private effectTransactions = 0;
  private readonly outcomes: Record<Outcome, number> = { handled: 0, duplicate: 0, retried: 0, 'dead-lettered': 0 };
  private unsafeFailures = 0;
  private readonly meter = new UsageMeter();

  constructor(private readonly config: SideConfig) {}

  async start(): Promise<void> {
    const { variant } = this.config;
    this.broker = new BrokerConnection({
      url: this.config.amqpUrl,
      connectionName: `bench-consumer@${hostname()}`,
      product: 'orderflow-bench',
      version: '0',
      logger: benchLogger,
    });
    await this.broker.start();
    if (variant === 'ceiling') {
      this.channel = await this.broker.channel();
      await this.channel.consume(
        CEILING_QUEUE,
        () => {
          this.received += 1;
          this.lastAt = now();
        },
        { noAck: true },
      );
      return;
    }
    // One connection per lane plus two (the consumer's failure path), and the same for the unsafe consumer.
    this.dataSource = benchDataSource(this.config.databaseUrl!, this.config.consumer.lanes + 2, 'bench-consumer');
    await this.dataSource.initialize();
    const clock = new CommitClock((ids, at) => this.applied(ids, at));
    this.dataSource.subscribers.push(clock);
    if (variant === 'reliable') {
      const handler = async (message: IncomingMessage, uow: UnitOfWork) => {
        const { orderId } = message.data as DataOf<typeof BenchEvent>;
        this.reach(orderId);
        await uow.manager.query(INSERT_EFFECT_SQL, [orderId, message.id]);
        clock.track(uow.manager.queryRunner, orderId);
      };
      const broker = this.broker;
      this.consumer = new QueueConsumer(
        {
          queue: BENCH_QUEUE,
          service: BENCH_SERVICE,
          instance: `bench-consumer@${hostname()}`,
          handlers: new Map([[BenchEvent.type, handler]]),
          publishableTypes: new Set(),
          dataSource: this.dataSource,
          broker,
          // The bench's producer and consumer share one broker user, the sender of everything it routes.
          publishers: publisherCheckFor(benchRouting, BENCH_SERVICE, () => broker.user),
          outbox: CLAIM_ONLY,
          logger: benchLogger,
          observer: this.observer(),
        },
        { ...this.config.consumer },
      );
      await this.consumer.start();
      return;
    }
    const channel = await this.broker.channel();
    this.channel = channel;
    await channel.prefetch(this.config.consumer.prefetch, false);
    await channel.consume(BENCH_QUEUE, (msg) => msg && void this.applyUnsafely(channel, msg), { noAck: false });
  }

  /** Resets what a run is measured over. */
  begin(): void {
    this.meter.reset();
  }

  async awaitEffects(distinct: number, timeoutMs: number): Promise<boolean> {
    const deadline = now() + timeoutMs;
    while (this.distinct() < distinct) {
      if (now() > deadline) return false;
      await sleep(2);
    }
    return true;
  }

  collect(): Consumed {
    const { orderIds, effectAt } = this.fresh;
    this.fresh = { orderIds: [], effectAt: [] };
    const ceiling = this.config.variant === 'ceiling';
    const consumed: Consumed = {
      type: 'consumed',
      count: ceiling ? this.received : orderIds.length,
      lastAt: ceiling ? this.lastAt : effectAt.reduce((a, b) => Math.max(a, b), 0),
      orderIds,
      effectAt,
      reachedAt: orderIds.map((id) => this.reached.get(id) ?? Number.NaN),
      repeatedEffects: this.repeatedEffects,
      effectTransactions: this.effectTransactions,
      duplicatesSkipped: this.outcomes.duplicate,
      failures: this.outcomes.retried + this.outcomes['dead-lettered'] + this.unsafeFailures,
      usage: this.meter.read(),
    };
    for (const id of orderIds) this.reached.delete(id);
    this.received = 0;
    this.repeatedEffects = 0;
    this.effectTransactions = 0;
    this.outcomes.duplicate = this.outcomes.retried = this.outcomes['dead-lettered'] = 0;
    this.unsafeFailures = 0;
    return consumed;
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.channel?.close().catch(() => undefined);
    await this.dataSource?.destroy();
    await this.broker?.close();
  }

  private distinct(): number {
    return this.config.variant === 'ceiling' ? this.received : this.effects.size;
  }

  private reach(orderId: string): void {
    if (!this.reached.has(orderId) && !this.effects.has(orderId)) this.reached.set(orderId, now());
  }

  private applied(orderIds: readonly string[], at: number): void {
    this.effectTransactions += 1;
    for (const id of orderIds) {
      if (this.effects.has(id)) {
        this.repeatedEffects += 1;
        continue;
      }
      this.effects.add(id);
      this.fresh.orderIds.push(id);
      this.fresh.effectAt.push(at);
    }
  }

  private async applyUnsafely(channel: Channel, msg: ConsumeMessage): Promise<void> {
    try {
      const { event } = decode(msg.content);
      const { orderId } = event.data as DataOf<typeof BenchEvent>;
      this.reach(orderId);
      await this.dataSource!.query(INSERT_EFFECT_SQL, [orderId, event.id]);
      this.applied([orderId], now());
      channel.ack(msg);
    } catch (err) {
      this.unsafeFailures += 1;
      benchLogger.error({ message: 'unsafe consumer failed', reason: (err as Error).message });
      channel.nack(msg, false, true);
    }
  }

  private observer(): ConsumerObserver {
    return {
      outcome: (_queue: string, _type: string, outcome: Outcome, count = 1) => {
        this.outcomes[outcome] += count;
      },
    };
  }
}

let side: ConsumerSide | undefined;
serveSide(async (message: ToSide) => {
  switch (message.type) {
    case 'init':
      side = new ConsumerSide(message.config);
      await side.start();
      return { type: 'ready' };
    case 'run':
      side!.begin();
      return { type: 'ready' };
    case 'await': {
      const reached = await side!.awaitEffects(message.distinctEffects, message.timeoutMs);
      return { type: 'reached', timedOut: !reached };
    }
    case 'collect':
      return side!.collect();
    case 'stop':
      await side?.stop();
      return { type: 'stopped' };
  }
});
