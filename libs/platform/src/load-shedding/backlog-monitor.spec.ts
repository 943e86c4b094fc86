import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../metrics/metrics.js';
import type { BacklogSignal } from './backlog.js';
import { BacklogMonitor } from './backlog-monitor.js';
import type { LoadSheddingConfig } from './load-shedding-config.js';

const config: LoadSheddingConfig = {
  LOAD_SHEDDING: true,
  LOAD_SHEDDING_SAMPLE_INTERVAL_MS: 60_000,
  LOAD_SHEDDING_RETRY_AFTER_SECONDS: 5,
};

/** A signal whose next reading the test sets: a number, or an error to throw. */
function settable(name: string, bound: number) {
  let next: number | Error = 0;
  let reads = 0;
  const signal: BacklogSignal = {
    name,
    description: name,
    unit: '',
    bound,
    read: () => {
      reads += 1;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  return {
    signal,
    set: (value: number | Error) => (next = value),
    reads: () => reads,
  };
}

async function metricValue(registry: MetricsRegistry, name: string, label: Record<string, string>) {
  const metric = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return metric.find((v) => Object.entries(label).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('BacklogMonitor', () => {
  it('admits until a sample finds a signal at its bound, and again once a sample finds it under', async () => {
    const monitor = new BacklogMonitor(config, new MetricsRegistry());
    const queue = settable('queue_depth', 100);
    monitor.register(queue.signal);
    await monitor.onApplicationBootstrap();
    expect(monitor.verdict()).toEqual({ admit: true });

    queue.set(100);
    expect(monitor.verdict()).toEqual({ admit: true }); // nothing is read per request
    await monitor.sample();
    expect(monitor.verdict()).toMatchObject({ admit: false, reading: { signal: 'queue_depth', level: 100 } });

    queue.set(99);
    await monitor.sample();
    expect(monitor.verdict()).toEqual({ admit: true });
    await monitor.beforeApplicationShutdown();
  });

  it('keeps the last level of a signal it cannot read, so a blip neither opens nor closes the gate', async () => {
    const monitor = new BacklogMonitor(config, new MetricsRegistry());
    const queue = settable('queue_depth', 100);
    monitor.register(queue.signal);
    queue.set(150);
    await monitor.sample();
    queue.set(new Error('connection terminated'));
    await monitor.sample();
    expect(monitor.verdict()).toMatchObject({ admit: false, reading: { level: 150 } });
  });

  it('exports each level and bound, and counts refusals by reason', async () => {
    const registry = new MetricsRegistry();
    const monitor = new BacklogMonitor(config, registry);
    const queue = settable('queue_depth', 100);
    monitor.register(queue.signal);
    queue.set(120);
    await monitor.sample();
    const verdict = monitor.verdict();
    if (verdict.admit) throw new Error('expected a refusal');
    monitor.refused(verdict.reading);
    expect(await metricValue(registry, 'orderflow_backlog_level', { signal: 'queue_depth' })).toBe(120);
    expect(await metricValue(registry, 'orderflow_backlog_bound', { signal: 'queue_depth' })).toBe(100);
    expect(await metricValue(registry, 'orderflow_load_shed_requests_total', { reason: 'queue_depth' })).toBe(1);
  });

  it('moves the exported levels only with its verdict, so levels under their bounds mean work is taken', async () => {
    const registry = new MetricsRegistry();
    const monitor = new BacklogMonitor(config, registry);
    const lag = settable('outbox_lag_seconds', 10);
    let answerSlowly: (level: number) => void = () => undefined;
    monitor.register(lag.signal);
    monitor.register({
      name: 'in_flight',
      description: 'in_flight',
      unit: '',
      bound: 100,
      read: () => new Promise((resolve) => (answerSlowly = resolve)),
    });
    lag.set(60);
    const first = monitor.sample();
    answerSlowly(0);
    await first;
    expect(monitor.verdict()).toMatchObject({ admit: false, reading: { signal: 'outbox_lag_seconds' } });

    // The lag is read as caught up while the other signal is still being read: the verdict still refuses, and the
    // exported lag still says why.
    lag.set(0);
    const second = monitor.sample();
    await new Promise((resolve) => setImmediate(resolve));
    expect(monitor.verdict().admit).toBe(false);
    expect(await metricValue(registry, 'orderflow_backlog_level', { signal: 'outbox_lag_seconds' })).toBe(60);
    answerSlowly(0);
    await second;
    expect(monitor.verdict()).toEqual({ admit: true });
    expect(await metricValue(registry, 'orderflow_backlog_level', { signal: 'outbox_lag_seconds' })).toBe(0);
  });

  it('reads nothing and admits everything when shedding is off', async () => {
    const monitor = new BacklogMonitor({ ...config, LOAD_SHEDDING: false }, new MetricsRegistry());
    const queue = settable('queue_depth', 1);
    queue.set(1_000);
    monitor.register(queue.signal);
    await monitor.onApplicationBootstrap();
    expect(queue.reads()).toBe(0);
    expect(monitor.verdict()).toEqual({ admit: true });
  });

  it('refuses two signals of one name', () => {
    const monitor = new BacklogMonitor(config, new MetricsRegistry());
    monitor.register(settable('queue_depth', 1).signal);
    expect(() => monitor.register(settable('queue_depth', 2).signal)).toThrow('two backlog signals named queue_depth');
  });
});
