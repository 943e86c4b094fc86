import 'reflect-metadata';
import { ORDERFLOW_VERSION, runService } from '@orderflow/platform';
import { AppModule } from './app.module.js';
import { configSchema } from './config.js';
import { schema } from './database.js';

await runService({
  name: 'saga',
  version: ORDERFLOW_VERSION,
  title: 'orderflow saga orchestrator',
  description: 'Drives each order through payment, stock and shipment, and compensates when a step fails.',
  configSchema,
  schema,
  rootModule: (config, identity) => AppModule.register(config, identity),
});
