// Least privilege on the broker, proven against the real one: each service's user, with the permissions `npm run up`
// gave it from deploy/rabbitmq/permissions/, can use what is its own and nothing else — in particular it cannot send
// a message it does not own by any exchange a message can enter by (ADR 0016).
import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type Options } from 'amqplib';
import { ORDERFLOW_ROUTING } from '@orderflow/contracts';
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import { testEnvironment } from '@orderflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { EXCHANGES } from '../topology/topology.js';

const opened: ChannelModel[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close().catch(() => undefined)));
});

async function channelAs(service: ServiceName): Promise<Channel> {
  const connection = await connect(testEnvironment.amqpUrl(service));
  connection.on('error', () => undefined);
  opened.push(connection);
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  return channel;
}

/** Publishing is asynchronous: a refusal arrives as the channel being closed by the broker. */
async function publishOutcome(
  channel: Channel,
  exchange: string,
  routingKey: string,
  properties: Options.Publish = {},
): Promise<string> {
  const closed = new Promise<string>((resolve) => {
    channel.once('error', (err: Error) => resolve(err.message));
    channel.once('close', () => resolve('closed'));
  });
  channel.publish(exchange, routingKey, Buffer.from('{}'), { persistent: false, ...properties });
  // A publish that is allowed has nothing to answer; a cheap round trip after it shows the channel survived.
  const survived = channel.checkExchange(exchange).then(
    () => 'accepted',
    (err: Error) => err.message,
  );
  return Promise.race([closed, survived]);
}

/**
 * Takes the message with this id off the queue again (an accepted publish must leave nothing behind); whatever else
 * the queue holds goes back to it unacknowledged when the channel closes.
 */
async function takeBack(queue: string, messageId: string): Promise<boolean> {
  const admin = await connect(testEnvironment.amqpAdminUrl());
  opened.push(admin);
  const channel = await admin.createChannel();
  try {
    await channel.prefetch(10_000);
    const found = new Promise<boolean>((resolve) => {
      setTimeout(() => resolve(false), 5_000);
      void channel.consume(queue, (msg) => {
        if (msg?.properties.messageId !== messageId) return;
        channel.ack(msg);
        resolve(true);
      });
    });
    return await found;
  } finally {
    await channel.close();
  }
}

const queuesOfService = (service: ServiceName) =>
  ORDERFLOW_ROUTING.queues.filter((q) => q.service === service).map((q) => q.name);
const queueOf = (service: ServiceName) => queuesOfService(service)[0];
const sentBy = (service: ServiceName, kind: 'event' | 'command') =>
  (ORDERFLOW_ROUTING.publishes[service] ?? []).filter((t) => t.kind === kind).map((t) => t.type);
/** Every command and event of the routing that this service does not send. */
const notSentBy = (service: ServiceName) =>
  SERVICE_NAMES.filter((s) => s !== service).flatMap((s) => ORDERFLOW_ROUTING.publishes[s] ?? []);

describe.each(SERVICE_NAMES.map((s) => [s]))('the %s service’s broker user', (service) => {
  const other = SERVICE_NAMES[(SERVICE_NAMES.indexOf(service) + 1) % SERVICE_NAMES.length];
  const othersQueues = SERVICE_NAMES.filter((s) => s !== service).flatMap(queuesOfService);

  it('may read its own queue', async () => {
    const channel = await channelAs(service);
    await expect(channel.checkQueue(queueOf(service))).resolves.toMatchObject({ queue: queueOf(service) });
  });

  it('may not consume another service’s queue', async () => {
    const channel = await channelAs(service);
    await expect(channel.consume(queueOf(other), () => undefined)).rejects.toThrow(/ACCESS_REFUSED/);
  });

  it('may not declare topology', async () => {
    await expect((await channelAs(service)).assertQueue(`${service}.intruder`)).rejects.toThrow(/ACCESS_REFUSED/);
    await expect((await channelAs(service)).assertExchange('orderflow.intruder', 'topic')).rejects.toThrow(
      /ACCESS_REFUSED/,
    );
  });

  it('may not publish to an exchange that is not orderflow’s', async () => {
    expect(await publishOutcome(await channelAs(service), 'amq.topic', 'anything')).toMatch(/ACCESS_REFUSED/);
    expect(await publishOutcome(await channelAs(service), '', queueOf(other))).toMatch(/ACCESS_REFUSED/);
  });

  it('may not send another service’s commands or events, on either exchange', async () => {
    const foreign = notSentBy(service);
    expect(foreign.length).toBeGreaterThan(5);
    for (const type of foreign) {
      for (const exchange of [EXCHANGES.commands, EXCHANGES.events]) {
        expect(
          await publishOutcome(await channelAs(service), exchange, type.type),
          `${type.type} on ${exchange}`,
        ).toMatch(/ACCESS_REFUSED/);
      }
    }
  });

  it('may not put a message into another service’s queue or dead-letter queue by way of a retry or a dead letter', async () => {
    for (const queue of othersQueues) {
      for (const exchange of [EXCHANGES.retry, EXCHANGES.deadLetters]) {
        expect(await publishOutcome(await channelAs(service), exchange, queue), `${queue} on ${exchange}`).toMatch(
          /ACCESS_REFUSED/,
        );
      }
    }
  });

  it('may send its own commands and events only on the exchange of their kind', async () => {
    for (const type of sentBy(service, 'event')) {
      expect(await publishOutcome(await channelAs(service), EXCHANGES.commands, type)).toMatch(/ACCESS_REFUSED/);
    }
    for (const type of sentBy(service, 'command')) {
      expect(await publishOutcome(await channelAs(service), EXCHANGES.events, type)).toMatch(/ACCESS_REFUSED/);
    }
  });

  it('may put a message back on its own queue (a retry, a replay) and into its own dead-letter queue', async () => {
    const queue = queueOf(service);
    for (const [exchange, destination] of [
      [EXCHANGES.retry, queue],
      [EXCHANGES.deadLetters, `${queue}.dlq`],
    ]) {
      const messageId = randomUUID();
      const outcome = await publishOutcome(await channelAs(service), exchange, queue, { messageId, userId: service });
      expect(outcome, `${queue} on ${exchange}`).toBe('accepted');
      expect(await takeBack(destination, messageId), `the message reached ${destination}`).toBe(true);
    }
  });

  it('may not name another user as the sender (user_id)', async () => {
    expect(
      await publishOutcome(await channelAs(service), EXCHANGES.retry, queueOf(service), { userId: other }),
    ).toMatch(/PRECONDITION_FAILED.*user_id/);
  });
});
