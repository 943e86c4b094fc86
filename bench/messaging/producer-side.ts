/**
 * The producing service, in its own process: concurrent producers, each business transaction one business row
 * and one message.
 * - reliable: `Messaging.transaction` writes the row and the outbox row in one transaction; the library's
 *   `OutboxRelay` (on TypeORM's own pool, as messaging.module.ts wires it) publishes with confirms.
 * - unsafe: commit the row, then `channel.publish` on a plain channel (no outbox, no confirm), persistent, to the
 *   same durable quorum queue.
 * - ceiling: no database; publish non-persistent to a classic non-durable queue, no confirms, one pre-encoded
 *   message over and over, so that the figure is the broker's and amqplib's rather than the cost of building
 *   envelopes.
 * Commits are stamped by `CommitClock`, broker confirms by the relay's own `RelayObserver.published` timestamp.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { hostname } from 'node:os';
import {
  amqpProperties,
  BrokerConnection,
  childTraceparent,
  type ClaimedRow,
  encode,
  envelope,
  EXCHANGES,
  Messaging,
  OutboxRelay,
  relayPool,
  type RelayObserver,
} from '@orderflow/messaging';
import type { Channel } from 'amqplib';
import type { DataSource } from 'typeorm';
import { CommitClock } from './commit-clock.js';
import {
  benchLogger,
  now,
  type Produced,
  type RunPlan,
  serveSide,
  type SideConfig,
  sleep,
  type ToSide,
} from './protocol.js';
import { BENCH_SERVICE, BenchEvent, benchDataSource, CEILING_QUEUE, INSERT_ORDER_SQL } from './setup.js';
import { UsageMeter } from './usage.js';

const CONFIRM_TIMEOUT_MS = 60_000;

class ProducerSide {
  private broker?: BrokerConnection;
  private dataSource?: DataSource;
  private relay?: OutboxRelay;
  private messaging?: Messaging;
  private clock?: CommitClock;
  private readonly channels: Channel[] = [];
  private ceilingMessage?: [Buffer, ReturnType<typeof amqpProperties>];
  private readonly committedAt = new Map<string, number>();
  private readonly confirmedAt = new Map<string, number>();
  private relayBatches = 0;
  private relayFailed = 0;
  private readonly meter = new UsageMeter();

  constructor(private readonly config: SideConfig) {}

  async start(): Promise<void> {
    const { variant, producers } = this.config;
    this.broker = new BrokerConnection({
      url: this.config.amqpUrl,
      connectionName: `bench-producer@${hostname()}`,
      product: 'orderflow-bench',
      version: '0',
      logger: benchLogger,
    });
    await this.broker.start();
    if (variant === 'ceiling') {
      for (let i = 0; i < producers; i += 1) this.channels.push(await this.broker.channel());
      this.ceilingMessage = this.message(randomUUID(), false);
      return;
    }
    // The producers' connections plus one per relay worker: no producer waits for the relay's connection.
    const poolSize = producers + (variant === 'reliable' ? this.config.relay.workers : 0);
    this.dataSource = benchDataSource(this.config.databaseUrl!, poolSize, 'bench-producer');
    await this.dataSource.initialize();
    this.clock = new CommitClock((ids, at) => ids.forEach((id) => this.committedAt.set(id, at)));
    this.dataSource.subscribers.push(this.clock);
    if (variant === 'reliable') {
      const pool = relayPool(this.config.databaseUrl!, this.config.relay.workers, 'bench-relay');
      this.relay = new OutboxRelay(pool, this.broker, benchLogger, this.observer(), {
        ...this.config.relay,
      });
      this.relay.start();
      this.messaging = new Messaging(this.dataSource, this.relay, BENCH_SERVICE, new Set([BenchEvent.type]));
    } else {
      this.channels.push(await this.broker.channel());
    }
  }

  async run(plan: RunPlan): Promise<Produced> {
    const orderIds: string[] = [];
    let failures = 0;
    let next = 0;
    const batchesBefore = this.relayBatches;
    const failedBefore = this.relayFailed;
    const interval = plan.ratePerSecond ? 1_000 / plan.ratePerSecond : 0;
    this.meter.reset();
    const start = now();
    let firstAt = Number.POSITIVE_INFINITY;
    const loop = async (producer: number) => {
      for (;;) {
        const k = next;
        next += 1;
        if (k >= plan.messages) return;
        if (interval) await sleep(start + k * interval - now());
        const orderId = randomUUID();
        try {
          if (this.config.variant === 'ceiling') {
            firstAt = Math.min(firstAt, now());
            await this.publishCeiling(producer);
          } else {
            await this.produce(plan.run, producer, orderId);
          }
          orderIds.push(orderId);
        } catch (err) {
          failures += 1;
          benchLogger.error({ message: 'producer transaction failed', reason: (err as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: this.config.producers }, (_, i) => loop(i)));
    if (this.relay) await this.awaitConfirms(orderIds);
    const usage = this.meter.read();
    const ceiling = this.config.variant === 'ceiling';
    const committedAt = ceiling ? [] : orderIds.map((id) => this.committedAt.get(id) ?? Number.NaN);
    return {
      type: 'produced',
      count: orderIds.length,
      firstAt: ceiling ? firstAt : committedAt.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY),
      orderIds: ceiling ? [] : orderIds,
      committedAt,
      confirmedAt: this.relay ? orderIds.map((id) => this.confirmedAt.get(id) ?? null) : [],
      failures,
      relayBatches: this.relayBatches - batchesBefore,
      relayFailed: this.relayFailed - failedBefore,
      usage,
    };
  }

  async stop(): Promise<void> {
    await this.relay?.stop();
    for (const channel of this.channels) await channel.close().catch(() => undefined);
    await this.dataSource?.destroy();
    await this.broker?.close();
  }

  /** One business transaction: the order row and its message. */
  private async produce(run: string, producer: number, orderId: string): Promise<void> {
    const clock = this.clock!;
    if (this.messaging) {
      await this.messaging.transaction(async (uow) => {
        await uow.manager.query(INSERT_ORDER_SQL, [orderId, run, producer]);
        uow.publish(BenchEvent.of({ orderId }));
        clock.track(uow.manager.queryRunner, orderId);
      });
      return;
    }
    await this.dataSource!.transaction(async (manager) => {
      await manager.query(INSERT_ORDER_SQL, [orderId, run, producer]);
      clock.track(manager.queryRunner, orderId);
    });
    const channel = this.channels[0];
    if (!channel.publish(EXCHANGES.events, BenchEvent.type, ...this.message(orderId, true))) {
      await once(channel, 'drain');
    }
  }

  private async publishCeiling(producer: number): Promise<void> {
    const channel = this.channels[producer];
    if (!channel.publish('', CEILING_QUEUE, ...this.ceilingMessage!)) await once(channel, 'drain');
  }

  /** The same CloudEvent body and AMQP properties a unit of work would write to the outbox. */
  private message(orderId: string, persistent: boolean): [Buffer, ReturnType<typeof amqpProperties>] {
    const { messageType, subject, data } = BenchEvent.of({ orderId });
    const event = envelope(messageType, subject, data, {
      service: BENCH_SERVICE,
      correlationId: randomUUID(),
      traceparent: childTraceparent(),
    });
    return [encode(event), { ...amqpProperties(event, BENCH_SERVICE), persistent }];
  }

  private async awaitConfirms(orderIds: readonly string[]): Promise<void> {
    const deadline = now() + CONFIRM_TIMEOUT_MS;
    let i = 0;
    while (now() < deadline) {
      while (i < orderIds.length && this.confirmedAt.has(orderIds[i])) i += 1;
      if (i === orderIds.length) return;
      await sleep(2);
    }
    benchLogger.error({ message: 'broker confirms still missing', missing: orderIds.length - i });
  }

  private observer(): RelayObserver {
    return {
      published: (rows: readonly ClaimedRow[], confirmedAt: number) => {
        this.relayBatches += 1;
        for (const row of rows) {
          const orderId = String((row.properties.headers as { subject?: unknown } | undefined)?.subject);
          if (!this.confirmedAt.has(orderId)) this.confirmedAt.set(orderId, confirmedAt);
        }
      },
      failed: (rows: readonly ClaimedRow[]) => {
        this.relayFailed += rows.length;
      },
    };
  }
}

let side: ProducerSide | undefined;
serveSide(async (message: ToSide) => {
  switch (message.type) {
    case 'init':
      side = new ProducerSide(message.config);
      await side.start();
      return { type: 'ready' };
    case 'run':
      return side!.run(message.plan);
    case 'stop':
      await side?.stop();
      return { type: 'stopped' };
    default:
      throw new Error(`the producer side does not handle ${message.type}`);
  }
});
