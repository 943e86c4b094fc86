/**
 * Who used the two cores while a run lasted, from /proc: the whole machine, this profile's PostgreSQL (postmaster
 * and its backends), its RabbitMQ node, the processes each benchmark names (a side, a service and its replicas, a
 * simulator, the driver), and the kernel's interrupt work (mostly loopback networking, charged to no process).
 * "Other" is the rest: anything else running on the machine (a dev suite, a test run, a build). Figures are in cores
 * (CPU seconds per wall second); /proc counts in ticks of 10 ms, so a short run's per-process figures are coarse.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** A run during which the rest of the machine used more than this many cores is marked as disturbed. */
export const DISTURBED_OTHER_CORES = 0.25;

export interface MachineShare {
  /** The window the shares are measured over. */
  seconds: number;
  machine: number;
  interrupts: number;
  postgres: number;
  rabbitmq: number;
  other: number;
  /** The busiest other processes, e.g. `vitest 0.4, beam.smp 0.2`: what disturbed the run, if anything did. */
  otherTop: string;
}

/** The machine's shares and one per named group of processes (each group's processes and their children). */
export type CpuShare<K extends string> = MachineShare & Record<K, number>;

export interface CpuSample {
  at: number;
  machineBusy: number;
  interrupts: number;
  ticks: Map<number, number>;
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').split('\n')[0], 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function processStat(pid: number): { name: string; ppid: number; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

export class CpuWatch<K extends string> {
  private readonly postmaster?: number;
  private readonly rabbitmq?: number;

  /** `groups` is asked at the end of each window: which pids (alive during it) make up each named group. */
  constructor(
    stateDir: string,
    private readonly groups: () => Record<K, readonly (number | undefined)[]>,
  ) {
    this.postmaster = readNumber(`${stateDir}/postgres/data/postmaster.pid`);
    this.rabbitmq = readNumber(`${stateDir}/run/rabbitmq.pid`);
  }

  sample(): CpuSample {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu;
    const ticks = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = processStat(Number(entry));
      if (stat) ticks.set(Number(entry), stat.ticks);
    }
    return {
      at: performance.now(),
      machineBusy: user + nice + system + irq + softirq + steal,
      interrupts: irq + softirq,
      ticks,
    };
  }

  since(start: CpuSample): CpuShare<K> {
    const end = this.sample();
    const seconds = (end.at - start.at) / 1_000;
    const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
    const used = (pid: number) => Math.max(0, (end.ticks.get(pid) ?? 0) - (start.ticks.get(pid) ?? 0));
    const parents = new Map<number, number>();
    for (const pid of end.ticks.keys()) {
      const ppid = processStat(pid)?.ppid;
      if (ppid !== undefined) parents.set(pid, ppid);
    }
    const ours = new Set<number>();
    const family = (roots: readonly (number | undefined)[]) => {
      let total = 0;
      for (const root of roots) {
        if (root === undefined || ours.has(root)) continue;
        ours.add(root);
        total += used(root);
        for (const [pid, ppid] of parents) {
          if (ppid === root && !ours.has(pid)) {
            ours.add(pid);
            total += used(pid);
          }
        }
      }
      return total;
    };
    const machine = end.machineBusy - start.machineBusy;
    const interrupts = end.interrupts - start.interrupts;
    const postgres = family([this.postmaster]);
    const rabbitmq = family([this.rabbitmq]);
    const named = Object.entries<readonly (number | undefined)[]>(this.groups()).map(
      ([name, pids]) => [name, family(pids)] as const,
    );
    const other = machine - interrupts - postgres - rabbitmq - named.reduce((sum, [, t]) => sum + t, 0);
    return {
      seconds: Math.round(seconds * 1_000) / 1_000,
      machine: cores(machine),
      interrupts: cores(interrupts),
      postgres: cores(postgres),
      rabbitmq: cores(rabbitmq),
      ...Object.fromEntries(named.map(([name, t]) => [name, cores(t)])),
      other: cores(Math.max(0, other)),
      otherTop: [...end.ticks.keys()]
        .filter((pid) => !ours.has(pid))
        .map((pid) => ({ pid, ticks: used(pid) }))
        .filter((p) => p.ticks > 0)
        .sort((a, b) => b.ticks - a.ticks)
        .slice(0, 4)
        .map((p) => `${processStat(p.pid)?.name ?? p.pid} ${cores(p.ticks)}`)
        .join(', '),
    } as CpuShare<K>;
  }
}
