import 'reflect-metadata';
import { ORDERFLOW_VERSION, runService } from '@orderflow/platform';
import { AppModule } from './app.module.js';
import { configSchema } from './config.js';
import { schema } from './database.js';

await runService({
  name: 'order',
  version: ORDERFLOW_VERSION,
  title: 'orderflow order service',
  description: 'Takes orders from merchants over REST and reports their progress.',
  configSchema,
  schema,
  rootModule: (config, identity) => AppModule.register(config, identity),
});
