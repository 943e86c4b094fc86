// Least privilege on the broker, proven against the real one: each service's user, with the permissions `npm run up`
// gave it from deploy/rabbitmq/permissions/, can use what is its own and nothing else.
import { connect, type Channel, type ChannelModel } from 'amqplib';
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
async function publishOutcome(channel: Channel, exchange: string, routingKey: string): Promise<string> {
  const closed = new Promise<string>((resolve) => {
    channel.once('error', (err: Error) => resolve(err.message));
    channel.once('close', () => resolve('closed'));
  });
  channel.publish(exchange, routingKey, Buffer.from('{}'), { persistent: false });
  // A publish that is allowed has nothing to answer; a cheap round trip after it shows the channel survived.
  const survived = channel.checkExchange(exchange).then(
    () => 'accepted',
    (err: Error) => err.message,
  );
  return Promise.race([closed, survived]);
}

const queueOf = (service: ServiceName) => ORDERFLOW_ROUTING.queues.find((q) => q.service === service)!.name;
const eventsOf = (service: ServiceName) =>
  (ORDERFLOW_ROUTING.publishes[service] ?? []).filter((t) => t.kind === 'event').map((t) => t.type);

describe.each(SERVICE_NAMES.map((s) => [s]))('the %s service’s broker user', (service) => {
  const other = SERVICE_NAMES[(SERVICE_NAMES.indexOf(service) + 1) % SERVICE_NAMES.length];

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

  it('may publish to orderflow’s exchanges', async () => {
    // Routed nowhere (no binding has this key), so no queue receives it; what matters is that the channel survives.
    expect(await publishOutcome(await channelAs(service), EXCHANGES.retry, 'no-such-queue')).toBe('accepted');
  });

  it('may not publish another service’s events', async () => {
    const foreign = SERVICE_NAMES.filter((s) => s !== service).flatMap(eventsOf)[0];
    expect(await publishOutcome(await channelAs(service), EXCHANGES.events, foreign)).toMatch(/ACCESS_REFUSED/);
  });
});
