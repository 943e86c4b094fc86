/**
 * One orderflow service as a real process, built from dist/ the way `npm run up` runs it, with the test
 * profile's database, broker user and port. Its JSON log lines are kept so tests can assert on them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import { CapturedLog } from './captured-logs.js';
import { testEnvironment } from './test-environment.js';
import { waitFor } from './wait-for.js';

const APP_FOLDER: Record<ServiceName, string> = {
  order: 'order-service',
  payment: 'payment-service',
  warehouse: 'warehouse-service',
  logistics: 'logistics-service',
  saga: 'saga-orchestrator',
};

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function serviceMain(service: ServiceName): string {
  const app = APP_FOLDER[service];
  return `${ROOT}dist/apps/${app}/apps/${app}/src/main.js`;
}

/** Where the test profile's simulators listen (scripts/lib/common.sh: the HTTP port base + 10 and + 11). */
export const simulatorPorts = () => {
  const base = Number(process.env.ORDERFLOW_HTTP_PORT_BASE ?? 3100);
  return { paymentGateway: base + 10, carrier: base + 11 };
};

export function serviceEnvironment(service: ServiceName): Record<string, string> {
  const ports = simulatorPorts();
  return {
    DATABASE_URL: testEnvironment.databaseUrl(service),
    // Each test file's services start with migrations on (NODE_ENV test), as the database's owner.
    ...(testEnvironment.migrationDatabaseUrl(service) && {
      MIGRATION_DATABASE_URL: testEnvironment.migrationDatabaseUrl(service)!,
    }),
    AMQP_URL: testEnvironment.amqpUrl(service),
    PORT: String(testEnvironment.httpPort(service)),
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    OPERATOR_TOKENS: required('ORDERFLOW_OPERATOR_TOKEN'),
    ...(service === 'order' && {
      SECRETS_ENCRYPTION_KEY: required('SECRETS_ENCRYPTION_KEY'),
      PAYMENT_TOKEN_KEY: required('PAYMENT_TOKEN_KEY'),
      // The tests' merchant endpoints listen on 127.0.0.1.
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      // The test profile's database keeps every run's PENDING orders (most files run no saga), so a production bound
      // would in time refuse every file's orders; load-shedding.e2e-spec.ts sets the bound it tests.
      LOAD_SHEDDING_MAX_ORDERS_IN_FLIGHT: '1000000',
    }),
    ...(service === 'payment' && {
      PAYMENT_GATEWAY_WEBHOOK_SECRET: required('PAYMENT_GATEWAY_WEBHOOK_SECRET'),
      PAYMENT_TOKEN_KEY: required('PAYMENT_TOKEN_KEY'),
    }),
    ...(service === 'logistics' && { CARRIER_WEBHOOK_SECRET: required('CARRIER_WEBHOOK_SECRET') }),
    // Results lost with their webhook are asked for within seconds here, not the production minutes (a test waits).
    ...(service === 'payment' && {
      PAYMENT_AUTHORIZATION_POLL_FIRST_INTERVAL: '2s',
      PAYMENT_AUTHORIZATION_POLL_MAX_INTERVAL: '10s',
    }),
    ...(service === 'logistics' && {
      CARRIER_DELIVERY_POLL_FIRST_INTERVAL: '2s',
      CARRIER_DELIVERY_POLL_MAX_INTERVAL: '10s',
    }),
    // A third party that is not running only matters to the tests that call it; they start the simulator.
    ...(service === 'payment' && { PAYMENT_GATEWAY_URL: `http://127.0.0.1:${ports.paymentGateway}` }),
    ...(service === 'logistics' && { CARRIER_URL: `http://127.0.0.1:${ports.carrier}` }),
    // The operator console reaches every service of the test profile (those a test did not start answer 502).
    ...(service === 'saga' && {
      CONSOLE_SERVICE_URLS: SERVICE_NAMES.map(
        (name) => `${name}=http://127.0.0.1:${testEnvironment.httpPort(name)}`,
      ).join(','),
    }),
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: e2e tests run through npm test, which provides it`);
  return value;
}

export type LogLine = Record<string, unknown> & { level?: string; message?: string };

export class ServiceProcess {
  readonly lines: LogLine[] = [];
  readonly rawOutput: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(
    readonly service: ServiceName,
    private readonly overrides: Record<string, string | undefined> = {},
    private readonly args: string[] = [],
  ) {}

  get port(): number {
    return Number(this.overrides.PORT ?? testEnvironment.httpPort(this.service));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Started and not exited (a crash counts as exited). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): this {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...serviceEnvironment(this.service) };
    for (const [key, value] of Object.entries(this.overrides)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    const child = spawn(process.execPath, ['--enable-source-maps', serviceMain(this.service), ...this.args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const captured = new CapturedLog(this.service);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.rawOutput.push(line);
        captured.append(line);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // Not every line is ours (e.g. a Node warning); rawOutput keeps it.
        }
      });
    }
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    this.child = child;
    return this;
  }

  /** Resolves with the exit code once the process has ended. */
  async exitCode(timeoutMs = 30_000): Promise<number | null> {
    if (!this.exited) throw new Error('not started');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.service} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Until `/health/ready` answers 200 with every check up (its consumers attached, its relay connected) and the
   * service takes new work; with `degraded`, a degradable dependency may be down (the broker, during an outage) and
   * the service may be shedding load.
   *
   * Ready is not enough for a test that places work at once: readiness leaves load shedding out on purpose, and a
   * replica's first backlog sample is taken at boot, before its relay's first pass. Started after an earlier file left
   * an unsent row in the outbox, it refuses orders for one sample interval while ready.
   */
  async waitReady(timeoutMs = 60_000, { degraded = false } = {}): Promise<this> {
    const outcome = await waitFor(
      async () => {
        // An exit is an answer too: report it now instead of polling a dead process until the deadline.
        if (this.child?.exitCode !== null) return 'exited';
        const res = await fetch(`${this.url}/health/ready`).catch(() => undefined);
        if (!res?.ok) return false;
        const { status } = (await res.json()) as { status?: string };
        if (degraded) return (status === 'ok' || status === 'degraded') && 'ready';
        return status === 'ok' && (await this.takesNewWork()) && 'ready';
      },
      { timeoutMs, intervalMs: 200, what: `${this.service} to be ready` },
    );
    if (outcome === 'exited') throw new Error(`${this.service} exited: ${this.rawOutput.slice(-5).join('\n')}`);
    return this;
  }

  /**
   * Whether no backlog signal is at its bound (`orderflow_backlog_level` against `orderflow_backlog_bound`). The
   * monitor moves the levels together with its verdict, so from a true answer on, new work is taken until the next
   * sample. True for a service that sheds no load.
   */
  async takesNewWork(): Promise<boolean> {
    const res = await fetch(`${this.url}/metrics`).catch(() => undefined);
    if (!res?.ok) return false;
    const text = await res.text();
    const bySignal = (name: string) =>
      new Map(
        [...text.matchAll(new RegExp(`^${name}\\{[^}]*signal="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))].map(
          (m) => [m[1], Number(m[2])] as const,
        ),
      );
    const bounds = bySignal('orderflow_backlog_bound');
    return [...bySignal('orderflow_backlog_level')].every(
      ([signal, level]) => level < (bounds.get(signal) ?? Infinity),
    );
  }

  /** SIGTERM, then the exit code; SIGKILL if it does not stop in time, so a test never leaves it behind. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    try {
      return await this.exitCode(timeoutMs);
    } catch (err) {
      this.child.kill('SIGKILL');
      throw err;
    }
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}
