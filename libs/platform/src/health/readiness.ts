import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/** Checks one dependency; it throws (or rejects) when the dependency does not answer. What it returns is shown. */
export type ReadinessProbe = (signal: AbortSignal) => Promise<Record<string, unknown> | void> | void;

/**
 * What a failed probe means for the service:
 * - `required`: it cannot serve its API without the dependency (its own database): `/health/ready` turns red, so the
 *   load balancer sends the work to replicas that can do it.
 * - `degradable`: it keeps serving without it, and catches up when it is back (the broker, behind the outbox): the
 *   dependency shows as `degraded` in the details and `/health/ready` stays 200. Every replica shares such a
 *   dependency, so taking them out of the load balancer would turn a partial fault into an outage.
 */
export type DependencyKind = 'required' | 'degradable';

export interface ReadinessCheck {
  name: string;
  kind: DependencyKind;
  probe: ReadinessProbe;
}

/**
 * The set of checks behind `/health/ready`. Modules that own a dependency (the database, the broker) register a
 * probe for it, so the health endpoint needs to know none of them. Once shutdown starts the service reports
 * not-ready at once, so that a load balancer stops sending work while in-flight requests finish.
 */
@Injectable()
export class Readiness implements BeforeApplicationShutdown {
  private readonly checks = new Map<string, ReadinessCheck>();
  private stopping = false;

  register(name: string, probe: ReadinessProbe, kind: DependencyKind = 'required'): void {
    this.checks.set(name, { name, kind, probe });
  }

  entries(): ReadinessCheck[] {
    return [...this.checks.values()];
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
