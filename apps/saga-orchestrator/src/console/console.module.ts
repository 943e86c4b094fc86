import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigurationError, EXIT_CONFIG, type ServiceIdentity } from '@orderflow/platform';
import { ConsoleApiController } from './console-api.controller.js';
import { ConsolePageController } from './console-page.controller.js';
import { type ConsoleService, consoleServicesFrom } from './console-services.js';
import { CONSOLE_SERVICES } from './console.tokens.js';
import { ServiceProxy } from './service-proxy.js';

/**
 * The operator console: `GET /console` (a static page) and `/console/api/…`, through which the page reaches the
 * other services' dead letters and failed notifications with the operator's own credential.
 */
@Module({})
export class ConsoleModule {
  /**
   * `CONSOLE_SERVICE_URLS` is read here until it joins the service's configuration schema; a malformed value stops
   * start-up the way a bad configuration does (exit status 78, one fatal line naming the variable, not its value).
   */
  static register(config: object, identity: ServiceIdentity, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsolePageController, ConsoleApiController],
      providers: [
        { provide: CONSOLE_SERVICES, useValue: servicesOrExit(config, identity, env) },
        { provide: ServiceProxy, useValue: new ServiceProxy() },
      ],
    };
  }
}

function servicesOrExit(config: object, identity: ServiceIdentity, env: NodeJS.ProcessEnv): readonly ConsoleService[] {
  try {
    return consoleServicesFrom(config, env);
  } catch (err) {
    if (!(err instanceof ConfigurationError)) throw err;
    const line = {
      level: 'fatal',
      time: new Date().toISOString(),
      service: identity.name,
      instance: identity.instance,
      message: err.message,
      problems: err.problems,
    };
    process.stderr.write(`${JSON.stringify(line)}\n`);
    process.exit(EXIT_CONFIG);
  }
}
