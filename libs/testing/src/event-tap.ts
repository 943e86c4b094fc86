/**
 * Watches the events the suite publishes without taking them from any service's queue: an exclusive, auto-deleted
 * queue of the test's own, bound to `orderflow.events` for the types it names. Tests that assert "this event was
 * published" use it, so they neither drain `saga.events` nor push other messages toward its delivery limit.
 */
import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import { BrokerConnection } from '@orderflow/messaging';
import { testEnvironment } from './test-environment.js';
import { waitFor } from './wait-for.js';

export interface TappedEvent {
  id: string;
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

export class EventTap {
  readonly events: TappedEvent[] = [];
  private broker?: BrokerConnection;
  private channel?: Channel;

  /** `types`: wire types to watch, or `#` for every event. */
  async open(types: string[] = ['#']): Promise<this> {
    this.broker = new BrokerConnection({
      url: testEnvironment.amqpAdminUrl(),
      connectionName: `test@event-tap-${randomUUID().slice(0, 8)}`,
      product: 'orderflow',
      version: 'test',
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await this.broker.start();
    const channel = await this.broker.channel();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    for (const type of types) await channel.bindQueue(queue, 'orderflow.events', type);
    await channel.consume(
      queue,
      (msg) => {
        if (!msg) return;
        this.events.push(JSON.parse(msg.content.toString()) as TappedEvent);
      },
      { noAck: true },
    );
    this.channel = channel;
    return this;
  }

  about(subject: string, type?: string): TappedEvent[] {
    return this.events.filter((e) => e.subject === subject && (!type || e.type === type));
  }

  /** Waits for an event of `type` about `subject` and returns it. */
  async next(subject: string, type: string, timeoutMs = 15_000): Promise<TappedEvent> {
    return waitFor(() => this.about(subject, type)[0], { timeoutMs, what: `${type} about ${subject}` });
  }

  async close(): Promise<void> {
    await this.channel?.close().catch(() => undefined);
    await this.broker?.close();
  }
}
