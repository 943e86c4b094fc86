/**
 * What every service says about itself besides its work: which build it runs, and how its database pools are doing.
 *
 * Both are read at scrape time, never by a timer: a gauge's `collect` runs when Prometheus asks, so a service nobody
 * scrapes does no work for them, and every scrape sees the pools as they are at that moment.
 */
import { Gauge, type Registry } from 'prom-client';

export interface BuildFacts {
  version: string;
  /** The git commit the image was built from (ORDERFLOW_COMMIT), when the build said. */
  commit?: string;
  nodeVersion?: string;
}

/**
 * `orderflow_build_info{version, commit, node_version} 1`: the usual Prometheus way to put a build's facts next to its
 * metrics (`… * on (pod) group_left (version) orderflow_build_info`), and to see a rollout's versions side by side.
 */
export function exportBuildInfo(registry: Registry, build: BuildFacts): void {
  const info = new Gauge({
    name: 'orderflow_build_info',
    help: 'Always 1; its labels say which orderflow release and commit (unknown when not given) runs on which Node.js',
    labelNames: ['version', 'commit', 'node_version'],
    registers: [registry],
  });
  info.set(
    { version: build.version, commit: build.commit ?? 'unknown', node_version: build.nodeVersion ?? process.version },
    1,
  );
}

/** What pg-pool shows of itself; a pg.Pool fits. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options: { readonly max?: number };
}

/**
 * Each database pool of the process, by name (`main`: TypeORM's, for requests, handlers and schedulers; `relay`: the
 * outbox relay's own). A pool at its `max` with clients waiting is the pool, not PostgreSQL, holding work back: a
 * request waits up to 5 s for a connection, then fails.
 */
export class DatabasePoolMetrics {
  private readonly pools = new Map<string, PoolCounts>();

  constructor(registry: Registry) {
    const pools = this.pools;
    const gauge = (name: string, help: string, read: (pool: PoolCounts) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['pool'],
        registers: [registry],
        collect() {
          for (const [pool, counts] of pools) {
            const value = read(counts);
            if (value !== undefined) this.set({ pool }, value);
          }
        },
      });
    gauge('orderflow_db_pool_connections', 'Connections the pool holds open, in use or idle', (p) => p.totalCount);
    gauge('orderflow_db_pool_idle_connections', 'Open connections no one is using', (p) => p.idleCount);
    gauge(
      'orderflow_db_pool_waiting_clients',
      'Queries waiting for a connection because every one is in use and the pool is at its max',
      (p) => p.waitingCount,
    );
    gauge('orderflow_db_pool_max_connections', 'The most connections the pool opens', (p) => p.options.max);
  }

  /** Reports `pool` under `name` from the next scrape on. */
  add(name: string, pool: PoolCounts): void {
    this.pools.set(name, pool);
  }
}
