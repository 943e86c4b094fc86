/**
 * A separate process for the reliability tests that kill one at the worst moment (run with tsx):
 *   commit-then-die      commits COUNT business transactions through the outbox, then SIGKILLs itself before any
 *                        relay could publish them;
 *   consume-without-ack  consumes the rig's queue with the real consumer, but its channel never acknowledges:
 *                        effects commit, acks never leave, and the test kills it.
 */
import type { Channel, ChannelModel } from 'amqplib';
import {
  BrokerConnection,
  CLAIM_ONLY,
  QueueConsumer,
  Messaging,
  type MessageHandlerFn,
  publisherCheckFor,
} from '@orderflow/messaging';
import { StockReleased, StockReserved } from '@orderflow/contracts';
import { openDataSource, produceOrders, recordEffect, RIG_QUEUE, RIG_ROUTING, RIG_SERVICE } from './messaging-rig.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
const [mode] = process.argv.slice(2);
const databaseUrl = process.env.RIG_DATABASE_URL!;
const amqpUrl = process.env.RIG_AMQP_URL!;

/** A broker connection whose channels drop every acknowledgement: the crash window after commit, held open. */
class AckLosingBroker extends BrokerConnection {
  override onConnected(setup: (model: ChannelModel) => Promise<void>): Promise<void> {
    return super.onConnected((model) =>
      setup(
        new Proxy(model, {
          get(target, prop, receiver) {
            if (prop !== 'createChannel') return Reflect.get(target, prop, receiver) as unknown;
            return async () => {
              const channel: Channel = await target.createChannel();
              channel.ack = () => undefined;
              return channel;
            };
          },
        }),
      ),
    );
  }
}

if (mode === 'commit-then-die') {
  const dataSource = await openDataSource(databaseUrl);
  // RESERVE_MS: the rows are reserved for this process's relay, as a running relay has them, and never handed over.
  const handoff = process.env.RESERVE_MS
    ? { reservationMs: Number(process.env.RESERVE_MS), committed: () => undefined }
    : CLAIM_ONLY;
  const messaging = new Messaging(dataSource, handoff, RIG_SERVICE, new Set([StockReserved.type]));
  await produceOrders(messaging, Number(process.env.COUNT ?? 10));
  process.stdout.write('committed\n');
  process.kill(process.pid, 'SIGKILL');
} else if (mode === 'consume-without-ack') {
  const dataSource = await openDataSource(databaseUrl);
  const broker = new AckLosingBroker({
    url: amqpUrl,
    connectionName: 'it@ack-losing',
    product: 'orderflow',
    version: 'test',
    logger: silent,
  });
  await broker.start();
  const handler = recordEffect as MessageHandlerFn;
  const consumer = new QueueConsumer({
    queue: RIG_QUEUE,
    service: RIG_SERVICE,
    instance: 'it@ack-losing',
    handlers: new Map([
      [StockReserved.type, handler],
      [StockReleased.type, handler],
    ]),
    publishableTypes: new Set(),
    dataSource,
    broker,
    publishers: publisherCheckFor(RIG_ROUTING, RIG_SERVICE, () => broker.user),
    outbox: CLAIM_ONLY,
    logger: silent,
    observer: { outcome: () => undefined },
  });
  await consumer.start();
  process.stdout.write('consuming\n');
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(64);
}
