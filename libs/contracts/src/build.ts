// Build-time code of the contracts, kept out of the runtime barrel (index.ts): what the AsyncAPI generator and
// `npm run contracts:release` read of a message type. No service imports it.
export { jsonSchemaOf } from './json-schema.js';
