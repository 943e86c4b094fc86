import { defineConfig } from 'vitest/config';

// Three layers, run in this order by `npm test` (scripts/test.sh):
//   unit         *.spec.ts beside the code, no I/O;
//   integration  *.int-spec.ts against the real PostgreSQL and RabbitMQ of the test profile;
//   e2e          apps/*/test/*.e2e-spec.ts against the services as real processes;
//   audit        test/audit/*.audit-spec.ts over what the e2e run left behind (its captured logs).
// And one npm test does not run, since it needs a three-node RabbitMQ cluster and minutes of load:
//   chaos        test/chaos/*.chaos-spec.ts, run by `npm run chaos:cluster` (scripts/chaos-cluster.sh).
export default defineConfig({
  resolve: { tsconfigPaths: true },
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['{apps,libs,simulators,deploy}/**/*.spec.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{apps,libs}/**/*.int-spec.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One test restarts the shared test broker, so integration files take turns.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['apps/**/*.e2e-spec.ts', 'test/**/*.e2e-spec.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The services of the test profile listen on fixed ports, so e2e files take turns.
          fileParallelism: false,
        },
      },
      { extends: true, test: { name: 'audit', include: ['test/audit/**/*.audit-spec.ts'] } },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.chaos-spec.ts'],
          testTimeout: 420_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
