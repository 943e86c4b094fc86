/**
 * The service's one AMQP connection, named `<service>@<host>` so the management console shows which replica it is.
 *
 * Recovery is amqplib's own (`recovery` option): when the broker goes away the connection is re-established with
 * backoff and jitter, and `onConnected` callbacks run again to restore channels and consumers.
 *
 * Two ways to start. A service calls `startInBackground`: it returns at once and keeps trying until the broker
 * answers, so a replica (re)started during a broker outage serves its HTTP API and takes orders into its outbox
 * instead of exiting and crash-looping; its consumers and relay begin when the broker is back. Tools and tests call
 * `start`, which waits for the first connection and fails after a bounded number of attempts, so a misconfigured
 * URL is reported rather than retried forever.
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
  private connected = false;
  private closing = false;
  private current?: ChannelModel;
  private readonly listeners: ((model: ChannelModel) => Promise<void>)[] = [];

  private readonly addresses: BrokerAddresses;

  constructor(private readonly options: BrokerConnectionOptions) {
    this.addresses = new BrokerAddresses(options.url, options.random);
  }

  /**
   * The broker user this connection authenticates as. Everything published through it says so in `user_id`, which
   * the broker verifies, so a consumer knows who really sent a message (consumer/publisher-check.ts).
   */
  get user(): string {
    return this.addresses.user;
  }

  get isOpen(): boolean {
    return this.connected;
  }

  /** Runs `setup` now if connected, and again on every reconnection (channels do not survive a reconnection). */
  async onConnected(setup: (model: ChannelModel) => Promise<void>): Promise<void> {
    this.listeners.push(setup);
    if (this.current) await setup(this.current);
  }

  /** Connects, or fails after a bounded number of attempts (`initialMaxRetries`, default 8: about 30 s). */
  async start(): Promise<void> {
    await this.open(true);
  }

  /** Starts connecting and returns at once; keeps trying, with backoff, until the broker answers. */
  async startInBackground(): Promise<void> {
    await this.open(false);
  }

  private async open(waitForConnect: boolean): Promise<void> {
    const { connectionName, product, version, logger } = this.options;
    const { addresses } = this;
    const model = await connect(addresses.endpoint, {
      clientProperties: { connection_name: connectionName, product, version },
      // Small frames (acks, confirms) must not wait for Nagle's algorithm: it added up to 40 ms to tail latency.
      noDelay: true,
      // A node that is gone without refusing (a dead host) must not hold the next address back for minutes.
      timeout: 10_000,
      recovery: {
        // Listeners go on before the first attempt, so that a first address that fails moves on to the next; `start`
        // waits for the connection below.
        waitForConnect: false,
        initialDelay: 200,
        maxDelay: 10_000,
        initialMaxRetries: waitForConnect ? (this.options.initialMaxRetries ?? 8) : Infinity,
        setup: async (connected: ChannelModel) => {
          coalesceWrites(connected);
          // A live iteration: a callback registered while these run (current still unset) is run here, once.
          for (const listener of this.listeners) await listener(connected);
          this.current = connected;
        },
      },
    });
    model.on('connect', () => {
      this.connected = true;
      logger.log({ message: 'broker connected', connectionName, address: addresses.current });
    });
    model.on('connect-failed', (err: Error) => {
      if (this.closing) return;
      if (addresses.size === 1) {
        logger.warn({ message: 'could not connect to the broker; retrying', reason: err.message });
        return;
      }
      logger.warn({
        message: 'broker address unreachable; trying the next',
        address: addresses.current,
        reason: err.message,
      });
      addresses.advance();
    });
    model.on('disconnect', (err: Error) => {
      this.connected = false;
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
    if (waitForConnect) await model.waitForConnect();
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
    this.connected = false;
    await this.model?.close().catch(() => undefined);
  }
}
