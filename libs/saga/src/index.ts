// The saga engine's public face, named export by export: what a service declares a saga with and runs it by.
// Build-time code (the diagram of a definition) is in build.ts.

export { composite } from './definition/composite.js';
export { deadline } from './definition/deadline.js';
export {
  type OperatorAction,
  OperatorCompensate,
  OperatorResolve,
  OperatorRetry,
} from './definition/operator-actions.js';
export { request } from './definition/request.js';
export type { SagaContext } from './definition/saga-context.js';
export { defineSaga, FINAL, rulesOf } from './definition/saga-definition.js';
export { SagaActionNotAllowed, SagaChangedSinceSeen, SagaEngine } from './engine/saga-engine.js';
export { registerSagaDeadlines } from './engine/saga-deadlines.js';
export { countPrunedSagas, SagaPruner } from './store/saga-pruner.js';
export { SagaInstancesByCompletion1764300000000 } from './store/saga-retention-index.migration.js';
export { InvalidSagaListQuery, SagaConcurrencyConflict, SagaStore, type SqlExecutor } from './store/saga-store.js';
export { CreateSagaTables1763910000000 } from './store/saga-tables.migration.js';
export { SagaHistoryDeadlinesAndOperators1764200000000 } from './store/saga-history-kinds.migration.js';
export { SagaHistoryStepRows1764500000000 } from './store/saga-history-steps.migration.js';
export { SagaStateEnteredAt1764400000000 } from './store/saga-state-entered.migration.js';
export { SagaCompositeArrivals1765200000000 } from './store/saga-arrivals.migration.js';
export { SagaMetrics, sagaMetricsProvider } from './metrics/saga-metrics.js';
