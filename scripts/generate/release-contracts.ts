// npm run contracts:release — records the JSON Schema of every message type not yet released in
// libs/contracts/src/schemas.snapshot.json. It never changes a released entry: a change to a released schema is a
// new version (`….v2`), and the contracts test fails until it is one.
import { readFileSync, writeFileSync } from 'node:fs';
import { MESSAGE_TYPES } from '@orderflow/contracts';
import { jsonSchemaOf } from '@orderflow/contracts/build';
import { format, resolveConfig } from 'prettier';

const file = new URL('../../libs/contracts/src/schemas.snapshot.json', import.meta.url);
const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const added: string[] = [];
for (const messageType of MESSAGE_TYPES) {
  if (snapshot[messageType.type] === undefined) {
    snapshot[messageType.type] = jsonSchemaOf(messageType);
    added.push(messageType.type);
  }
}
const sorted = Object.fromEntries(Object.entries(snapshot).sort(([a], [b]) => a.localeCompare(b)));
const options = await resolveConfig(file.pathname);
writeFileSync(
  file,
  await format(JSON.stringify(sorted, null, 2), { ...options, parser: 'json', filepath: file.pathname }),
);
console.log(added.length ? `released: ${added.join(', ')}` : 'nothing new to release');
