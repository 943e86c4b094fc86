import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DatabasePoolMetrics, exportBuildInfo, type PoolCounts } from './process-metrics.js';

const valuesOf = async (registry: Registry, name: string) =>
  (await registry.getMetricsAsJSON())
    .find((m) => m.name === name)!
    .values.map(({ labels, value }) => ({ labels, value }));

describe('orderflow_build_info', () => {
  it('is 1, labelled with the version, the commit (unknown when not given) and the Node.js release', async () => {
    const registry = new Registry();
    exportBuildInfo(registry, { version: '1.2.3', nodeVersion: 'v24.0.0' });
    expect(await valuesOf(registry, 'orderflow_build_info')).toEqual([
      { labels: { version: '1.2.3', commit: 'unknown', node_version: 'v24.0.0' }, value: 1 },
    ]);
    const built = new Registry();
    exportBuildInfo(built, { version: '1.2.3', commit: 'abc1234' });
    expect((await valuesOf(built, 'orderflow_build_info'))[0].labels).toEqual({
      version: '1.2.3',
      commit: 'abc1234',
      node_version: process.version,
    });
  });
});

describe('DatabasePoolMetrics', () => {
  it("reads each pool's counts when scraped, not before", async () => {
    const registry = new Registry();
    const metrics = new DatabasePoolMetrics(registry);
    const main = { totalCount: 3, idleCount: 1, waitingCount: 0, options: { max: 10 } } satisfies PoolCounts;
    metrics.add('main', main);
    metrics.add('relay', { totalCount: 1, idleCount: 1, waitingCount: 0, options: { max: 3 } });
    main.totalCount = 10;
    main.idleCount = 0;
    main.waitingCount = 4;
    expect(await valuesOf(registry, 'orderflow_db_pool_connections')).toEqual([
      { labels: { pool: 'main' }, value: 10 },
      { labels: { pool: 'relay' }, value: 1 },
    ]);
    expect(await valuesOf(registry, 'orderflow_db_pool_idle_connections')).toContainEqual({
      labels: { pool: 'main' },
      value: 0,
    });
    expect(await valuesOf(registry, 'orderflow_db_pool_waiting_clients')).toContainEqual({
      labels: { pool: 'main' },
      value: 4,
    });
    expect(await valuesOf(registry, 'orderflow_db_pool_max_connections')).toEqual([
      { labels: { pool: 'main' }, value: 10 },
      { labels: { pool: 'relay' }, value: 3 },
    ]);
  });
});
