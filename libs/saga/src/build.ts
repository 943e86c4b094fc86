/**
 * Build-time code of the saga engine, kept out of the runtime barrel (index.ts): what `npm run generate` reads of a
 * saga definition to write its diagram and table into docs/saga.md. No service imports it.
 *
 * Guarantee: the diagram and the table are drawn from the definition the engine runs, so the documented saga cannot
 * drift from the running one (`npm run generate -- --check` fails while they differ).
 */
export { toMermaid } from './diagram/mermaid.js';
export { deadlinesIn, eventLabel, rulesOf } from './definition/saga-definition.js';
