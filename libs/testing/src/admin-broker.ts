import { BrokerConnection } from '@orderflow/messaging';
import type { ServiceName } from '@orderflow/platform';
import { testEnvironment } from './test-environment.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

async function connected(url: string, name: string): Promise<BrokerConnection> {
  const broker = new BrokerConnection({
    url,
    connectionName: name,
    product: 'orderflow',
    version: 'test',
    logger: quiet,
  });
  await broker.start();
  return broker;
}

/** A started connection to the test broker as its administrator, for tests that look at queues directly. */
export async function connectAdminBroker(name: string): Promise<BrokerConnection> {
  return connected(testEnvironment.amqpAdminUrl(), name);
}

/**
 * A started connection as one service's broker user, for tests that inject messages as that service would send
 * them (a command from the saga, an event from a participant): consumers handle a message only from the user that
 * owns it, named in `user_id` — so publish with `userId: broker.user`.
 */
export async function connectBrokerAs(service: ServiceName, name: string): Promise<BrokerConnection> {
  return connected(testEnvironment.amqpUrl(service), name);
}
