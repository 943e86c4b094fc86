/**
 * The service's one AMQP connection, named `<service>@<host>` so the management console shows which replica it is.
 *
 * Recovery is amqplib's own (`recovery` option): when the broker goes away the connection is re-established with
 * backoff and jitter, and `onConnected` callbacks run again to restore channels and consumers. Start-up fails after
 * a bounded number of attempts instead of hanging, so a misconfigured URL is reported, not retried forever.
 *
 * Given several URLs (the nodes of a cluster), each attempt goes to the next one after a failed attempt or a lost
 * connection (broker-addresses.ts), so losing the node this connection was on costs one reconnection, not an outage.
 */
import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { type Logger } from '@nestjs/common';
import { BrokerAddresses } from './broker-addresses.js';
import { coalesceWrites } from './coalesced-writes.js';

export interface BrokerConnectionOptions {
  /** One AMQP URL, or one per node of a cluster: tried in turn, from a random first one. */
  url: string | readonly string[];
  connectionName: string;
  /** Product name and version, shown as client properties in the console. */
  product: string;
  version: string;
  logger: Pick<Logger, 'log' | 'warn' | 'error'>;
  initialMaxRetries?: number;
  /** Picks the first of several URLs (a number in [0, 1), as Math.random gives, the default). */
  random?: () => number;
}

export class BrokerConnection {
  private model?: RecoveringChannelModel;
  private open = false;
  private closing = false;
  private current?: ChannelModel;
  private readonly listeners: ((model: ChannelModel) => Promise<void>)[] = [];

  constructor(private readonly options: BrokerConnectionOptions) {}

  get isOpen(): boolean {
    return this.open;
  }

  /** Runs `setup` now if connected, and again on every reconnection (channels do not survive a reconnection). */
  async onConnected(setup: (model: ChannelModel) => Promise<void>): Promise<void> {
    this.listeners.push(setup);
    if (this.current) await setup(this.current);
  }

  async start(): Promise<void> {
    const { connectionName, product, version, logger } = this.options;
    const addresses = new BrokerAddresses(this.options.url, this.options.random);
    const model = await connect(addresses.endpoint, {
      clientProperties: { connection_name: connectionName, product, version },
      // Small frames (acks, confirms) must not wait for Nagle's algorithm: it added up to 40 ms to tail latency.
      noDelay: true,
      // A node that is gone without refusing (a dead host) must not hold the next address back for minutes.
      timeout: 10_000,
      recovery: {
        // Listeners go on before the first attempt, so that a first address that fails moves on to the next.
        waitForConnect: false,
        initialDelay: 200,
        maxDelay: 10_000,
        initialMaxRetries: this.options.initialMaxRetries ?? 8,
        setup: async (connected: ChannelModel) => {
          coalesceWrites(connected);
          this.current = connected;
          for (const listener of this.listeners) await listener(connected);
        },
      },
    });
    model.on('connect', () => {
      this.open = true;
      logger.log({ message: 'broker connected', connectionName, address: addresses.current });
    });
    model.on('connect-failed', (err: Error) => {
      if (addresses.size === 1) return;
      logger.warn({
        message: 'broker address unreachable; trying the next',
        address: addresses.current,
        reason: err.message,
      });
      addresses.advance();
    });
    model.on('disconnect', (err: Error) => {
      this.open = false;
      this.current = undefined;
      if (this.closing) return;
      logger.warn({ message: 'broker connection lost; reconnecting', address: addresses.current, reason: err.message });
      addresses.advance();
    });
    model.on('reconnect-failed', (err: Error) => {
      logger.error({ message: 'broker reconnection gave up', reason: err.message });
    });
    model.on('blocked', (reason: string) => logger.warn({ message: 'broker blocked this connection', reason }));
    model.on('error', (err: Error) => logger.warn({ message: 'broker connection error', reason: err.message }));
    this.model = model;
    await model.waitForConnect();
  }

  /** A fresh confirm channel on the current connection. */
  async confirmChannel() {
    if (!this.model) throw new Error('broker connection not started');
    return this.model.createConfirmChannel();
  }

  async channel() {
    if (!this.model) throw new Error('broker connection not started');
    return this.model.createChannel();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.open = false;
    await this.model?.close().catch(() => undefined);
  }
}
