// BrokerConnection against the real broker: named connection, recovery after the broker drops it, clean close.
import { randomUUID } from 'node:crypto';
import { freePort, RabbitMqManagement, testEnvironment, waitFor } from '@orderflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerConnection } from './broker-connection.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
const opened: BrokerConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

function connection(name: string): BrokerConnection {
  const c = new BrokerConnection({
    url: testEnvironment.amqpUrl('order'),
    connectionName: name,
    product: 'orderflow',
    version: 'test',
    logger: silent,
  });
  opened.push(c);
  return c;
}

describe('BrokerConnection', () => {
  it('appears in the management API under its connection name and the service’s user', async () => {
    const name = `order@int-${randomUUID()}`;
    await connection(name).start();
    const management = new RabbitMqManagement();
    const found = await waitFor(
      async () => (await management.connections()).find((c) => c.client_properties.connection_name === name),
      {
        what: 'the named connection',
      },
    );
    expect(found).toMatchObject({ user: 'order', vhost: 'orderflow' });
  });

  it('reconnects after the broker closes it, and runs its set-up again', async () => {
    const name = `order@int-${randomUUID()}`;
    const c = connection(name);
    let setups = 0;
    await c.onConnected(async (model) => {
      setups += 1;
      // A set-up that touches the broker proves the new connection works, not just that an event fired.
      const channel = await model.createChannel();
      await channel.close();
    });
    await c.start();
    expect(setups).toBe(1);

    const management = new RabbitMqManagement();
    const before = await waitFor(
      async () => (await management.connections()).find((x) => x.client_properties.connection_name === name),
      {
        what: 'the connection',
      },
    );
    await management.delete(`/connections/${encodeURIComponent(before.name)}`);

    await waitFor(() => setups === 2 && c.isOpen, { timeoutMs: 20_000, what: 'recovery' });
    const channel = await c.channel();
    await channel.close();
  });

  it('given several addresses, skips one that is down, and after losing its connection finds a live one again', async () => {
    const live = testEnvironment.amqpUrl('order');
    const down = new URL(live);
    down.port = String(await freePort());
    const name = `order@int-${randomUUID()}`;
    const warnings: string[] = [];
    const c = new BrokerConnection({
      url: [down.toString(), live],
      // The address that is down comes first, every time.
      random: () => 0,
      connectionName: name,
      product: 'orderflow',
      version: 'test',
      logger: { ...silent, warn: (line: { message: string }) => warnings.push(line.message) },
      initialMaxRetries: 2,
    });
    opened.push(c);
    let setups = 0;
    await c.onConnected(async (model) => {
      setups += 1;
      const channel = await model.createChannel();
      await channel.close();
    });
    await c.start();
    expect(setups).toBe(1);
    expect(warnings).toContain('broker address unreachable; trying the next');

    const management = new RabbitMqManagement();
    const before = await waitFor(
      async () => (await management.connections()).find((x) => x.client_properties.connection_name === name),
      { what: 'the connection' },
    );
    await management.delete(`/connections/${encodeURIComponent(before.name)}`);
    await waitFor(() => setups === 2 && c.isOpen, { timeoutMs: 20_000, what: 'recovery through the list' });
    const channel = await c.channel();
    await channel.close();
  });

  it('refuses to start with a bad password, after a bounded number of attempts', async () => {
    const url = new URL(testEnvironment.amqpUrl('order'));
    url.password = 'wrong';
    const c = new BrokerConnection({
      url: url.toString(),
      connectionName: 'order@bad-password',
      product: 'orderflow',
      version: 'test',
      logger: silent,
      initialMaxRetries: 1,
    });
    await expect(c.start()).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it('starts in the background without a broker, and keeps trying', async () => {
    const url = new URL(testEnvironment.amqpUrl('order'));
    url.port = String(await freePort());
    const warnings: unknown[] = [];
    const c = new BrokerConnection({
      url: url.toString(),
      connectionName: 'order@no-broker',
      product: 'orderflow',
      version: 'test',
      logger: { ...silent, warn: (line: unknown) => warnings.push(line) },
    });
    opened.push(c);
    await c.startInBackground();
    expect(c.isOpen).toBe(false);
    await waitFor(() => warnings.length >= 2, { what: 'a second attempt' });
    expect(warnings[0]).toMatchObject({ message: 'could not connect to the broker; retrying' });
    expect(c.isOpen).toBe(false);
  });

  it('connects in the background and runs the set-ups registered before and after', async () => {
    const c = connection(`order@int-${randomUUID()}`);
    const setups: string[] = [];
    await c.onConnected(() => {
      setups.push('before');
      return Promise.resolve();
    });
    await c.startInBackground();
    await waitFor(() => c.isOpen, { what: 'the connection' });
    await c.onConnected(async (model) => {
      const channel = await model.createChannel();
      await channel.close();
      setups.push('after');
    });
    expect(setups).toEqual(['before', 'after']);
  });
});
