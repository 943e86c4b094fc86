/**
 * The real infrastructure of the test profile, as `npm test` (scripts/test.sh) brought it up and described it in
 * the environment. Tests read it here, so a test run outside `npm test` fails with a message saying why.
 */
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: integration and e2e tests run through 'npm test', which starts their infrastructure`,
    );
  }
  return value;
}

export const testEnvironment = {
  databaseUrl: (service: ServiceName) => required(`${service.toUpperCase()}_DATABASE_URL`),
  /** The database owner's URL (ADR 0017); absent when an external database gives one role for both. */
  migrationDatabaseUrl: (service: ServiceName): string | undefined =>
    process.env[`${service.toUpperCase()}_MIGRATION_DATABASE_URL`] || undefined,
  amqpUrl: (service: ServiceName) => required(`${service.toUpperCase()}_AMQP_URL`),
  httpPort: (service: ServiceName) => Number(required('ORDERFLOW_HTTP_PORT_BASE')) + SERVICE_NAMES.indexOf(service),
  postgresAdminUrl: () => required('PG_ADMIN_URL'),
  /** The broker's Prometheus endpoint (node 1's). */
  brokerMetricsUrl: () => `${required('RABBITMQ_PROMETHEUS_URL')}/metrics`,
  amqpAdminUrl: () => required('AMQP_ADMIN_URL'),
  management: () => ({
    url: required('RABBITMQ_MANAGEMENT_URL'),
    /** Every node's console in a cluster (ORDERFLOW_RABBITMQ_NODES), else the one. */
    urls: (process.env.RABBITMQ_MANAGEMENT_URLS || required('RABBITMQ_MANAGEMENT_URL')).split(','),
    user: required('RABBITMQ_ADMIN_USER'),
    password: required('RABBITMQ_ADMIN_PASSWORD'),
  }),
};
