export * from './definition/behavior.js';
export * from './definition/saga-definition.js';
export * from './diagram/mermaid.js';
export * from './engine/apply-event.js';
export * from './engine/saga-engine.js';
export * from './store/saga-store.js';
export * from './store/saga-tables.migration.js';
export * from './metrics/saga-metrics.js';
