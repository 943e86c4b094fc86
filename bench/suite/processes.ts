/**
 * The suite as the bench runs it: the five services (one or more replicas each) and the two third parties'
 * simulators as child processes of the driver, from a checkout's built dist/ (this one, or the one
 * ORDERFLOW_BENCH_APPS_ROOT names). Each service gets the environment scripts/lib/services.sh gives it (its own
 * database, broker user and port, from the bench profile's services.env), with logging at warn so that logging
 * stays out of the cost, and a rate limit no bench load reaches. Pid files in the profile's run folder let
 * scripts/bench.sh stop whatever a crashed driver left behind.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { ROOT } from '../lib/environment.js';
import { sleep } from '../lib/stats.js';

export const SERVICES = [
  { name: 'order', app: 'order-service', offset: 0 },
  { name: 'payment', app: 'payment-service', offset: 1 },
  { name: 'warehouse', app: 'warehouse-service', offset: 2 },
  { name: 'logistics', app: 'logistics-service', offset: 3 },
  { name: 'saga', app: 'saga-orchestrator', offset: 4 },
] as const;
export type ServiceName = (typeof SERVICES)[number]['name'];

export const SIMULATORS = [
  { name: 'payment-gateway', offset: 10, secret: 'PAYMENT_GATEWAY_WEBHOOK_SECRET' },
  { name: 'carrier', offset: 11, secret: 'CARRIER_WEBHOOK_SECRET' },
] as const;
export type SimulatorName = (typeof SIMULATORS)[number]['name'];

/** Replica r (0-based) of a service listens on base + offset + r × this; the first replica on the usual port. */
export const REPLICA_PORT_STEP = 20;
/** Requests per minute per API key: far above any load the bench offers, so the bench measures the suite. */
export const BENCH_RATE_LIMIT = 1_000_000;

export interface SuiteOptions {
  appsRoot: string;
  replicas: number;
  httpPortBase: number;
  deliveryDelayMs: number;
  logDir: string;
  runDir: string;
  /** Where each process writes its V8 CPU profile when it exits (`--cpu-prof`); none when undefined. */
  cpuProfileDir?: string;
  /** Settings added to (or replacing) a service's or simulator's environment, by its name. */
  env?: Partial<Record<ServiceName | SimulatorName, Record<string, string>>>;
  /** Log and pid file names start with this ('bench' unless given). */
  label?: string;
}

interface Child {
  label: string;
  group: string;
  kind: 'service' | 'simulator';
  main: string;
  env: Record<string, string>;
  readyUrl: string;
  process: ChildProcess;
  pidFile: string;
  exited: boolean;
  /** Being stopped on purpose (restart): its exit is not a death. */
  stopping?: boolean;
}

/** The environment scripts/lib/services.sh gives one service, read from the same shell function. */
export function serviceEnv(service: ServiceName, migrates = false): Record<string, string> {
  const script =
    'source "$1/scripts/lib/common.sh"; source "$1/scripts/lib/infra.sh"; source "$1/scripts/lib/services.sh"; ' +
    'service_env "$2" ${3:+"$3"}';
  const out = execFileSync('bash', ['-c', script, 'bash', ROOT, service, migrates ? '--migrates' : ''], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return Object.fromEntries(
    out
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

export class Suite {
  private readonly children: Child[] = [];

  constructor(private readonly options: SuiteOptions) {}

  port(service: ServiceName, replica = 0): number {
    const offset = SERVICES.find((s) => s.name === service)?.offset ?? 0;
    return this.options.httpPortBase + offset + replica * REPLICA_PORT_STEP;
  }

  url(service: ServiceName, replica = 0): string {
    return `http://127.0.0.1:${this.port(service, replica)}`;
  }

  /** Pids per CPU group: each service (its replicas together), each simulator. */
  pids(): Record<string, number[]> {
    const groups: Record<string, number[]> = {};
    for (const child of this.children) {
      if (child.process.pid !== undefined) (groups[child.group] ??= []).push(child.process.pid);
    }
    return groups;
  }

  private main(app: string): string {
    return `${this.options.appsRoot}/dist/apps/${app}/apps/${app}/src/main.js`;
  }

  private simulatorMain(name: SimulatorName): string {
    return `${this.options.appsRoot}/dist/simulators/${name}/simulators/${name}/src/main.js`;
  }

  /** Each service's migrations, from the measured checkout's dist (its own migrations), one service at a time. */
  migrate(): void {
    for (const service of SERVICES) {
      execFileSync(process.execPath, [this.main(service.app), 'migrate'], {
        env: { PATH: process.env.PATH ?? '', ...serviceEnv(service.name, true) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
  }

  async start(): Promise<void> {
    const secrets = { ...process.env };
    for (const sim of SIMULATORS) {
      const port = this.options.httpPortBase + sim.offset;
      const child = this.spawn({
        label: `${sim.name}-simulator`,
        group: sim.name,
        kind: 'simulator',
        main: this.simulatorMain(sim.name),
        env: {
          PORT: String(port),
          WEBHOOK_SECRET: secrets[sim.secret] ?? '',
          ...(sim.name === 'carrier' && { DELIVERY_DELAY_MS: String(this.options.deliveryDelayMs) }),
          ...this.options.env?.[sim.name],
        },
        readyUrl: `http://127.0.0.1:${port}/health`,
      });
      await this.ready(child);
    }
    const starting: Child[] = [];
    for (const service of SERVICES) {
      const env = serviceEnv(service.name);
      for (let replica = 0; replica < this.options.replicas; replica++) {
        const child = this.spawn({
          label: `${service.name}-${replica + 1}`,
          group: service.name,
          kind: 'service',
          main: this.main(service.app),
          env: {
            ...env,
            PORT: String(this.port(service.name, replica)),
            RATE_LIMIT_REQUESTS: String(BENCH_RATE_LIMIT),
            ...this.options.env?.[service.name],
          },
          readyUrl: `${this.url(service.name, replica)}/health/ready`,
        });
        starting.push(child);
      }
    }
    for (const child of starting) await this.ready(child);
  }

  /** The processes running now: services' replicas (`order-1`, …) and simulators (`carrier-simulator`, …). */
  processes(): { label: string; group: string; kind: 'service' | 'simulator'; pid?: number }[] {
    return this.children.map(({ label, group, kind, process }) => ({ label, group, kind, pid: process.pid }));
  }

  /**
   * Stops one process with `signal` (SIGKILL: as a crash does; SIGTERM: as a rollout does), waits `downMs`, then
   * starts it again with the same environment and port and waits until it is ready.
   */
  async restart(label: string, signal: NodeJS.Signals, downMs: number): Promise<void> {
    const index = this.children.findIndex((c) => c.label === label);
    if (index < 0) throw new Error(`no process labelled ${label}`);
    const old = this.children[index];
    old.stopping = true;
    if (!old.exited) {
      const exited = once(old.process, 'exit');
      old.process.kill(signal);
      await Promise.race([exited, sleep(30_000)]);
      if (!old.exited) {
        old.process.kill('SIGKILL');
        await exited;
      }
    }
    this.children.splice(index, 1);
    await sleep(downMs);
    await this.ready(this.spawn(old));
  }

  private spawn(spec: Pick<Child, 'label' | 'group' | 'kind' | 'main' | 'env' | 'readyUrl'>): Child {
    const { label, main, env } = spec;
    const logFile = `${this.options.logDir}/${this.options.label ?? 'bench'}-${label}.log`;
    const log = openSync(logFile, 'a');
    const profile = this.options.cpuProfileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${this.options.cpuProfileDir}`, `--cpu-prof-name=${label}.cpuprofile`]
      : [];
    const child = spawn(process.execPath, ['--enable-source-maps', ...profile, main], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', ...env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const pidFile = `${this.options.runDir}/${this.options.label ?? 'bench'}-${label}.pid`;
    writeFileSync(pidFile, `${child.pid}\n`);
    const entry: Child = { ...spec, process: child, pidFile, exited: false };
    child.on('exit', () => {
      entry.exited = true;
    });
    this.children.push(entry);
    return entry;
  }

  private async ready(child: Child): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exited) {
        throw new Error(
          `${child.label} exited during start-up (log: ${this.options.label ?? 'bench'}-${child.label}.log)`,
        );
      }
      const res = await fetch(child.readyUrl).catch(() => undefined);
      if (res?.ok) return;
      if (Date.now() > deadline) throw new Error(`${child.label} not ready in 120 s`);
      await sleep(250);
    }
  }

  /** Any process that died while the bench ran: its figures would be wrong, so the bench stops. */
  dead(): string[] {
    return this.children.filter((c) => c.exited && !c.stopping).map((c) => c.label);
  }

  async stop(): Promise<void> {
    const running = this.children.filter((c) => !c.exited);
    const exits = running.map((c) => once(c.process, 'exit'));
    for (const child of running) child.process.kill('SIGTERM');
    await Promise.race([Promise.all(exits), sleep(20_000)]);
    for (const child of this.children) {
      if (!child.exited) child.process.kill('SIGKILL');
      rmSync(child.pidFile, { force: true });
    }
  }

  kill(): void {
    for (const child of this.children) {
      if (!child.exited) child.process.kill('SIGKILL');
      rmSync(child.pidFile, { force: true });
    }
  }
}
