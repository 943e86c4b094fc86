import { BrokerConnection } from '@orderflow/messaging';
import { testEnvironment } from './test-environment.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * A started connection to the test broker as its administrator, for tests that inject messages as another service
 * would (a command from the saga, an event from a participant) or look at queues directly.
 */
export async function connectAdminBroker(name: string): Promise<BrokerConnection> {
  const broker = new BrokerConnection({
    url: testEnvironment.amqpAdminUrl(),
    connectionName: name,
    product: 'orderflow',
    version: 'test',
    logger: quiet,
  });
  await broker.start();
  return broker;
}
