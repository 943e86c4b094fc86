/**
 * Who used the two cores while a run lasted, from /proc: the whole machine, this profile's PostgreSQL (postmaster
 * and its backends), its RabbitMQ node, each side's process, and the kernel's interrupt work (mostly loopback
 * networking, charged to no process). "Other" is the rest: the orchestrator, and anything else running on the
 * machine (a dev suite, a test run). Figures are in cores (CPU seconds per wall second); /proc counts in ticks of
 * 10 ms, so a short run's per-process figures are coarse.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

export interface CpuShare {
  /** The window the shares are measured over. */
  seconds: number;
  machine: number;
  interrupts: number;
  postgres: number;
  rabbitmq: number;
  producer: number;
  consumer: number;
  other: number;
  /** The busiest other processes, e.g. `vitest 0.4, beam.smp 0.2`: what disturbed the run, if anything did. */
  otherTop: string;
}

interface Sample {
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

export class CpuWatch {
  private readonly postmaster?: number;
  private readonly rabbitmq?: number;

  constructor(
    stateDir: string,
    private readonly sides: () => { producer?: number; consumer?: number },
  ) {
    this.postmaster = readNumber(`${stateDir}/postgres/data/postmaster.pid`);
    this.rabbitmq = readNumber(`${stateDir}/run/rabbitmq.pid`);
  }

  sample(): Sample {
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

  since(start: Sample): CpuShare {
    const end = this.sample();
    const seconds = (end.at - start.at) / 1_000;
    const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
    const used = (pid: number | undefined) =>
      pid === undefined ? 0 : Math.max(0, (end.ticks.get(pid) ?? 0) - (start.ticks.get(pid) ?? 0));
    const ours = new Set<number>();
    const family = (root: number | undefined) => {
      if (root === undefined) return 0;
      ours.add(root);
      let total = used(root);
      for (const pid of end.ticks.keys()) {
        if (pid !== root && processStat(pid)?.ppid === root) {
          ours.add(pid);
          total += used(pid);
        }
      }
      return total;
    };
    const { producer, consumer } = this.sides();
    if (producer !== undefined) ours.add(producer);
    if (consumer !== undefined) ours.add(consumer);
    const share = {
      machine: end.machineBusy - start.machineBusy,
      interrupts: end.interrupts - start.interrupts,
      postgres: family(this.postmaster),
      rabbitmq: family(this.rabbitmq),
      producer: used(producer),
      consumer: used(consumer),
    };
    const other = share.machine - share.interrupts - share.postgres - share.rabbitmq - share.producer - share.consumer;
    return {
      seconds: Math.round(seconds * 1_000) / 1_000,
      machine: cores(share.machine),
      interrupts: cores(share.interrupts),
      postgres: cores(share.postgres),
      rabbitmq: cores(share.rabbitmq),
      producer: cores(share.producer),
      consumer: cores(share.consumer),
      other: cores(Math.max(0, other)),
      otherTop: [...end.ticks.keys()]
        .filter((pid) => !ours.has(pid))
        .map((pid) => ({ pid, ticks: used(pid) }))
        .filter((p) => p.ticks > 0)
        .sort((a, b) => b.ticks - a.ticks)
        .slice(0, 4)
        .map((p) => `${processStat(p.pid)?.name ?? p.pid} ${cores(p.ticks)}`)
        .join(', '),
    };
  }
}
