// The platform's public face, named export by export: what the services and the other libs boot and build with.

export {
  type AuthenticatedRequest,
  CurrentPrincipal,
  MerchantAccess,
  OpenAccess,
  SignedAccess,
} from './access/access-policy.js';
export { MerchantAuthenticator, type MerchantPrincipal, type Principal } from './access/principal.js';
export { STANDARD_WEBHOOK_SECRET, StandardWebhookSignature } from './access/signed-webhook.guard.js';
export { recordBatchItems } from './audit/operator-actions.js';
export { CreateOperatorActions1765000000000 } from './audit/operator-actions.migration.js';
export { EXIT_CONFIG, runService } from './bootstrap.js';
export {
  aes256Key,
  type BaseConfig,
  baseConfigSchema,
  booleanFlag,
  ConfigurationError,
  loadConfig,
} from './config/service-config.js';
export { refuseWeakSecrets } from './config/weak-secrets.js';
export { SecretBox } from './crypto/secret-box.js';
export type { ServiceSchema } from './database/data-source-options.js';
export { DatabaseModule } from './database/database.module.js';
export { isDatabaseUnavailable } from './database/database-unavailable.js';
export { PreparingClient } from './database/prepared-statements.js';
export { Readiness } from './health/readiness.js';
export type { ProblemDetails } from './http/problem-details.filter.js';
export { ProblemResponses } from './http/problem-responses.js';
export { OptionalProperty } from './http/optional-property.js';
export { getJson, postJson } from './http/json-request.js';
export { decodeCursor, encodeCursor } from './http/keyset-cursor.js';
export { PlatformModule } from './platform.module.js';
export { SERVICE_CONFIG } from './platform.tokens.js';
export { SERVICE_NAMES, ServiceIdentity, type ServiceName } from './service-identity.js';
export { isUuid } from './identifiers.js';
export { ORDERFLOW_VERSION } from './version.js';
export { MetricsRegistry } from './metrics/metrics.js';
export { DatabasePoolMetrics } from './metrics/process-metrics.js';
export { BatchedMaintenance } from './maintenance/batched-maintenance.js';
export type { BacklogSignal } from './load-shedding/backlog.js';
export { BacklogMonitor } from './load-shedding/backlog-monitor.js';
export { loadSheddingConfigShape } from './load-shedding/load-shedding-config.js';
export { LoadSheddingModule } from './load-shedding/load-shedding.module.js';
export { ShedsLoadWhenBacklogged } from './load-shedding/sheds-load.guard.js';
export { AMOUNT, ApiPatternParam, ApiUuidParam, TIMESTAMP, UUID } from './http/api-schemas.js';
export { PageLimit, TimeRangeQuery } from './http/list-queries.js';
