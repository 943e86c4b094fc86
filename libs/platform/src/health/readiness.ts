import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/** A dependency this service cannot work without; it throws (or rejects) when the dependency does not answer. */
export type ReadinessProbe = (signal: AbortSignal) => Promise<Record<string, unknown> | void> | void;

/**
 * The set of checks behind `/health/ready`. Modules that own a dependency (the database, the broker) register a
 * probe for it, so the health endpoint needs to know none of them. Once shutdown starts the service reports
 * not-ready at once, so that a load balancer stops sending work while in-flight requests finish.
 */
@Injectable()
export class Readiness implements BeforeApplicationShutdown {
  private readonly probes = new Map<string, ReadinessProbe>();
  private stopping = false;

  register(name: string, probe: ReadinessProbe): void {
    this.probes.set(name, probe);
  }

  entries(): [string, ReadinessProbe][] {
    return [...this.probes.entries()];
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  markShuttingDown(): void {
    this.stopping = true;
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }
}
