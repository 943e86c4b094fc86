import {
  type DynamicModule,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Readiness, SERVICE_CONFIG, ServiceIdentity, type BaseConfig } from '@orderflow/platform';
import { BrokerConnection } from './broker-connection.js';

/**
 * Provides the service's BrokerConnection, reports it to `/health/ready`, and closes it last on shutdown
 * (after the HTTP server and consumers have stopped), so in-flight work can still publish and acknowledge.
 */
@Module({})
export class BrokerModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly connection: BrokerConnection,
    private readonly readiness: Readiness,
  ) {}

  static forService(): DynamicModule {
    return {
      module: BrokerModule,
      global: true,
      providers: [
        {
          provide: BrokerConnection,
          inject: [SERVICE_CONFIG, ServiceIdentity],
          useFactory: async (config: BaseConfig, identity: ServiceIdentity) => {
            const connection = new BrokerConnection({
              url: config.AMQP_URL,
              connectionName: identity.instance,
              product: 'orderflow',
              version: identity.version,
              logger: new Logger('Broker'),
            });
            await connection.start();
            return connection;
          },
        },
      ],
      exports: [BrokerConnection],
    };
  }

  onApplicationBootstrap(): void {
    this.readiness.register('broker', () => {
      if (!this.connection.isOpen) throw new Error('not connected to the broker');
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}
