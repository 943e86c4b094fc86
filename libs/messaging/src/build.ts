/**
 * Build-time code of the messaging core, kept out of the runtime barrel (index.ts): what `npm run generate` writes
 * from the routing besides the RabbitMQ definitions — the AsyncAPI document and each service's broker permissions.
 * No service imports it.
 *
 * Guarantee: both are derived from the same topology the services check at start-up, so the documented channels and
 * the permissions granted cannot name a queue, exchange or binding the broker and the services do not have.
 */
export { toAsyncApi } from './topology/asyncapi.js';
export { brokerPermissions } from './topology/topology.js';
