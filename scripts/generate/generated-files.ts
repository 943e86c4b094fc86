// npm run generate — writes every document generated from code: the RabbitMQ definitions (from the routing in
// libs/contracts). `npm run generate -- --check` writes nothing and fails if a committed file is stale; CI runs it.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ORDERFLOW_ROUTING } from '@orderflow/contracts';
import { buildTopology, toRabbitDefinitions } from '@orderflow/messaging';

const root = fileURLToPath(new URL('../../', import.meta.url));
const check = process.argv.includes('--check');

const topology = buildTopology(ORDERFLOW_ROUTING);
const files: Record<string, string> = {
  'deploy/rabbitmq/definitions.json': `${JSON.stringify(toRabbitDefinitions(topology), null, 2)}\n`,
};

let stale = 0;
for (const [path, content] of Object.entries(files)) {
  const file = `${root}${path}`;
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) {
    console.error(`stale: ${path} (run npm run generate and commit it)`);
    stale += 1;
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    console.log(`wrote ${path}`);
  }
}
if (stale) process.exit(1);
if (check) console.log('generated files are up to date');
