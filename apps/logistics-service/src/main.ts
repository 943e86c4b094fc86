import 'reflect-metadata';
import { ORDERFLOW_VERSION, runService } from '@orderflow/platform';
import { AppModule } from './app.module.js';
import { configSchema } from './config.js';
import { schema } from './database.js';

await runService({
  name: 'logistics',
  version: ORDERFLOW_VERSION,
  title: 'orderflow logistics service',
  description: 'Books shipments with the carrier and reports their delivery.',
  configSchema,
  schema,
  rootModule: (config, identity) => AppModule.register(config, identity),
});
