import 'reflect-metadata';
import { ORDERFLOW_VERSION, runService } from '@orderflow/platform';
import { AppModule } from './app.module.js';
import { configSchema } from './config.js';
import { schema } from './database.js';

await runService({
  name: 'warehouse',
  version: ORDERFLOW_VERSION,
  title: 'orderflow warehouse service',
  description: 'Keeps stock levels and reserves, releases and picks stock for orders.',
  configSchema,
  schema,
  rootModule: (config, identity) => AppModule.register(config, identity),
});
