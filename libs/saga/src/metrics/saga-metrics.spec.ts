import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SagaMetrics, type SagaStateCount } from './saga-metrics.js';

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

function setup(count: () => Promise<readonly SagaStateCount[]> = () => Promise.resolve([])) {
  const registry = new Registry();
  const failures: Error[] = [];
  const metrics = new SagaMetrics(registry, count, (err) => failures.push(err));
  const samples = async (name: string) =>
    ((await registry.getMetricsAsJSON()).find((m) => m.name === name)!.values as Sample[]).map((s) => ({
      ...s.labels,
      ...(s.metricName && { metricName: s.metricName }),
      value: s.value,
    }));
  return { metrics, samples, failures };
}

describe('SagaMetrics', () => {
  it('counts transitions and compensations, and observes the time spent in the state left', async () => {
    const { metrics, samples } = setup();
    metrics.transitioned({ saga: 'order', event: 'a.b.v1', from: 'Initial', to: 'Paying', startsCompensation: false });
    metrics.transitioned({
      saga: 'order',
      event: 'c.d.v1',
      from: 'Paying',
      to: 'Voiding',
      startsCompensation: true,
      secondsInFrom: 7,
    });

    expect(await samples('orderflow_saga_transitions_total')).toEqual([
      { saga: 'order', from: 'Initial', to: 'Paying', event: 'a.b.v1', value: 1 },
      { saga: 'order', from: 'Paying', to: 'Voiding', event: 'c.d.v1', value: 1 },
    ]);
    expect(await samples('orderflow_saga_compensations_total')).toEqual([{ saga: 'order', value: 1 }]);
    const durations = await samples('orderflow_saga_step_duration_seconds');
    expect(durations.filter((s) => s.metricName !== 'orderflow_saga_step_duration_seconds_bucket')).toEqual([
      { saga: 'order', state: 'Paying', metricName: 'orderflow_saga_step_duration_seconds_sum', value: 7 },
      { saga: 'order', state: 'Paying', metricName: 'orderflow_saga_step_duration_seconds_count', value: 1 },
    ]);
  });

  it('reads instances by state on every scrape, dropping states that emptied', async () => {
    let rows: SagaStateCount[] = [
      { saga_type: 'order', state: 'Paying', count: 3 },
      { saga_type: 'order', state: 'Voiding', count: 1 },
    ];
    const { samples } = setup(() => Promise.resolve(rows));
    expect(await samples('orderflow_sagas')).toEqual([
      { saga: 'order', state: 'Paying', value: 3 },
      { saga: 'order', state: 'Voiding', value: 1 },
    ]);

    rows = [{ saga_type: 'order', state: 'Paying', count: 2 }];
    expect(await samples('orderflow_sagas')).toEqual([{ saga: 'order', state: 'Paying', value: 2 }]);
  });

  it('serves an empty gauge, not stale counts or a failed scrape, when the count fails, and says so', async () => {
    let fail = false;
    const { samples, failures } = setup(() =>
      fail
        ? Promise.reject(new Error('canceling statement due to statement timeout'))
        : Promise.resolve([{ saga_type: 'order', state: 'Paying', count: 5 }]),
    );
    expect(await samples('orderflow_sagas')).toHaveLength(1);

    fail = true;
    expect(await samples('orderflow_sagas')).toEqual([]);
    expect(failures.map((e) => e.message)).toEqual(['canceling statement due to statement timeout']);
  });
});
