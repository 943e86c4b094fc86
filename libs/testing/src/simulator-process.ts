/**
 * A third party's simulator (payment gateway, carrier) as a real process, as `npm run up` runs it, for end-to-end
 * tests that need the whole suite. Its state is kept in a file of its own (STATE_FILE, unless the test names one), so
 * stopping or killing it and starting the same instance again keeps its bookings and authorisations, as a real third
 * party's restart would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CapturedLog } from './captured-logs.js';
import { waitFor } from './wait-for.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type SimulatorName = 'payment-gateway' | 'carrier';

export class SimulatorProcess {
  private child?: ChildProcess;
  readonly output: string[] = [];
  readonly stateFile: string;

  constructor(
    readonly name: SimulatorName,
    readonly port: number,
    private readonly env: Record<string, string> = {},
  ) {
    this.stateFile = env.STATE_FILE ?? join(mkdtempSync(join(tmpdir(), `orderflow-${name}-`)), 'state.json');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const main = `${ROOT}dist/simulators/${this.name}/simulators/${this.name}/src/main.js`;
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(this.port),
        // Signed like the real third party signs, with the secret the receiving service is configured with.
        WEBHOOK_SECRET:
          (this.name === 'carrier' ? process.env.CARRIER_WEBHOOK_SECRET : process.env.PAYMENT_GATEWAY_WEBHOOK_SECRET) ??
          '',
        ...this.env,
        STATE_FILE: this.stateFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const captured = new CapturedLog(`${this.name}-simulator`);
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        this.output.push(chunk.toString());
        captured.append(chunk.toString());
      });
    }
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.name} simulator exited: ${this.output.join('')}`);
        return (await fetch(`${this.url}/health`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `the ${this.name} simulator` },
    );
    return this;
  }

  /** SIGKILL, as a crash: what the simulator answered is in its state file (it is written before the answer). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
