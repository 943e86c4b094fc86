// The chaos suite's short run, inside `npm test`: a few hundred orders through the REST API while every kind of fault
// is injected at least once — each service SIGKILLed, each simulator SIGKILLed, RabbitMQ restarted, PostgreSQL
// restarted fast and immediate, deliveries held, reordered and duplicated by a second AMQP client — with a share of
// the third parties' webhooks dropped and gateway errors throughout. Then every order must have ended right, once
// (chaos/checks.ts). The long run is `npm run chaos` (bench/RESULTS.md).
import { fileURLToPath } from 'node:url';
import { SERVICE_NAMES } from '@orderflow/platform';
import { testEnvironment } from '@orderflow/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { Databases, databaseOf } from '../bench/suite/measure.js';
import { formatReport, runChaos } from '../chaos/chaos.js';
import { FAULT_KINDS } from '../chaos/faults.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const state = process.env.ORDERFLOW_TEST_STATE_DIR ?? `${ROOT}/.orderflow/test`;
const databases = new Databases(
  testEnvironment.postgresAdminUrl(),
  Object.fromEntries(SERVICE_NAMES.map((s) => [s, databaseOf(testEnvironment.databaseUrl(s))])) as Record<
    (typeof SERVICE_NAMES)[number],
    string
  >,
);

afterAll(() => databases.close());

describe('chaos, short run', () => {
  it('every order ends right, once, whatever is killed or restarted meanwhile', { timeout: 900_000 }, async () => {
    const report = await runChaos(
      {
        orders: 150,
        rate: 3,
        faultEverySeconds: 3,
        faults: FAULT_KINDS,
        seed: Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000)),
        replicas: 1,
        webhookDropRate: 0.3,
        drainSeconds: 240,
        meddleSeconds: 6,
        carrierDeliveryDelayMs: 1_000,
        serviceEnv: {},
        suite: {
          appsRoot: ROOT,
          httpPortBase: testEnvironment.httpPort('order'),
          logDir: `${state}/logs`,
          runDir: `${state}/run`,
          stateDir: state,
        },
        operatorToken: process.env.ORDERFLOW_OPERATOR_TOKEN ?? '',
        amqpAdminUrl: testEnvironment.amqpAdminUrl(),
        amqpUrls: Object.fromEntries(SERVICE_NAMES.map((s) => [s, testEnvironment.amqpUrl(s)])),
      },
      databases,
      (line) => console.log(`chaos: ${line}`),
    );
    console.log(formatReport(report));
    expect(report.checks.filter((c) => !c.passed)).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(9);
  });
});
