// The dead-letter CLI: list, show and replay the messages in a service's dead-letter queues.
//   npm run dead-letters -- <service> summary
//   npm run dead-letters -- <service> list <queue> [--limit N]
//   npm run dead-letters -- <service> replay <queue> [--id <messageId>]... [--limit N]
// It connects as the service's own broker user (AMQP_URL, which scripts/dead-letters.sh takes from the running
// suite), so it can touch exactly that service's queues.
import { parseArgs } from 'node:util';
import { ORDERFLOW_ROUTING } from '@orderflow/contracts';
import { BrokerConnection, buildTopology, DeadLetters, queuesOf } from '@orderflow/messaging';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { id: { type: 'string', multiple: true }, limit: { type: 'string' } },
});
const [service, command, queue] = positionals;
const usage =
  'usage: dead-letters <service> summary | list <queue> [--limit N] | replay <queue> [--id ID]… [--limit N]';
if (!service || !command) fail(usage);
const url = process.env.AMQP_URL;
if (!url) fail('AMQP_URL is not set (scripts/dead-letters.sh sets it from the running suite)');

const queues = new Map(queuesOf(buildTopology(ORDERFLOW_ROUTING), service).map((q) => [q.name, q.deadLetterQueue]));
if (queues.size === 0) fail(`${service} consumes no queue`);
const limit = values.limit === undefined ? undefined : Number(values.limit);
if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) fail('--limit takes a whole number ≥ 1');

const silent = { log: () => undefined, warn: () => undefined, error: (line: object) => console.error(line) };
const broker = new BrokerConnection({
  // A cluster's services are given every node's URL, comma-separated.
  url: url.split(',').map((u) => u.trim()),
  connectionName: `${service}@dead-letters-cli`,
  product: 'orderflow',
  version: 'cli',
  logger: silent,
  initialMaxRetries: 2,
});
await broker.start();
const deadLetters = new DeadLetters(broker, queues);
try {
  if (command === 'summary') {
    console.table(await deadLetters.summary());
  } else if (command === 'list' && queue) {
    console.log(JSON.stringify(await deadLetters.list(queue, limit ?? 50), null, 2));
  } else if (command === 'replay' && queue) {
    const replayed = await deadLetters.replay(queue, { messageIds: values.id, limit });
    console.log(
      `replayed ${replayed.length} message(s) to ${queue}${replayed.length ? `: ${replayed.join(', ')}` : ''}`,
    );
  } else {
    fail(usage);
  }
} finally {
  await broker.close();
}

function fail(message: string): never {
  console.error(message);
  process.exit(64);
}
