// The test fixtures, named export by export: real infrastructure for integration, end-to-end and benchmark runs.

export { RabbitMqManagement } from './rabbitmq-management.js';
export { ServiceProcess, simulatorPorts } from './service-process.js';
export { testEnvironment } from './test-environment.js';
export { waitFor } from './wait-for.js';
export { incomingMessage } from './incoming-message.js';
export { orderPlacedData } from './order-placed.js';
export {
  MessagingRig,
  OutcomeCounter,
  poolOf,
  produceOrders,
  recordEffect,
  RIG_QUEUE,
  RIG_ROUTING,
  RIG_SERVICE,
} from './messaging-rig.js';
export { SimulatorProcess } from './simulator-process.js';
export { EventTap, type TappedEvent } from './event-tap.js';
export { connectAdminBroker, connectBrokerAs } from './admin-broker.js';
export {
  asOperator,
  bearer,
  createMerchant,
  issuedSecretsFile,
  operatorToken,
  recordIssuedSecret,
  type TestMerchant,
} from './credentials.js';
export { capturedLogsDir } from './captured-logs.js';
export { freePort } from './free-port.js';
export { signedWebhookHeaders, webhookSecret } from './signed-webhooks.js';
export { launchChromium, testArtifactPath } from './browser.js';
export { type InjectedMessage, injectWithPika } from './pika-injector.js';
export { grafanaQueryAsSent, parsePromQL, type PromQuery, type Selector } from './promql.js';
export { type Exposition, parseExposition, type Series } from './exposition.js';
export { apiDocumentErrors } from './api-document-lint.js';
