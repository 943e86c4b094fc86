import 'reflect-metadata';
import { ORDERFLOW_VERSION, runService } from '@orderflow/platform';
import { AppModule } from './app.module.js';
import { configSchema } from './config.js';
import { schema } from './database.js';

await runService({
  name: 'payment',
  version: ORDERFLOW_VERSION,
  title: 'orderflow payment service',
  description: 'Authorises, captures, voids and refunds order payments through the payment gateway.',
  configSchema,
  schema,
  rootModule: (config, identity) => AppModule.register(config, identity),
});
