// The Grafana dashboard cannot drift from the code: every orderflow, HTTP and process metric a panel queries is one
// the services register, read from the metric classes themselves in a fresh registry. The queries are read with
// Prometheus's own PromQL grammar (libs/testing/src/promql.ts), so a label such as `orderflow_service` is never taken
// for a metric. test/monitoring.e2e-spec.ts holds the same queries, and the alerts', to what the running suite exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { MessagingMetrics } from '../../libs/messaging/src/metrics/messaging-metrics.js';
import { NotificationDispatcher } from '../../apps/order-service/src/notifications/notification-dispatcher.js';
import { HttpMetrics } from '../../libs/platform/src/metrics/http-metrics.js';
import { DatabasePoolMetrics, exportBuildInfo } from '../../libs/platform/src/metrics/process-metrics.js';
import { grafanaQueryAsSent, parsePromQL } from '../../libs/testing/src/promql.js';
import { SagaMetrics } from '../../libs/saga/src/metrics/saga-metrics.js';
import { countPrunedSagas } from '../../libs/saga/src/store/saga-pruner.js';
import type { JobStore, Queryable } from '../../libs/scheduling/src/job-store.js';
import { SchedulingMetrics } from '../../libs/scheduling/src/scheduling-metrics.js';

interface Panel {
  title?: string;
  type: string;
  datasource?: { uid?: string };
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
}

/**
 * Metrics of ours, and the process metrics every service exports. The broker's (`rabbitmq_*`) are held to what the
 * broker really exports by test/broker-metrics.e2e-spec.ts, against a running one.
 */
const CHECKED_NAME = /^(?:orderflow|http_server|process|nodejs)_/;

const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, 'orderflow-dashboard.json'), 'utf8')) as Dashboard;

/** Every name a service's /metrics can show, histograms with their series suffixes. */
function registeredNames(): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new HttpMetrics(registry);
  new DatabasePoolMetrics(registry);
  exportBuildInfo(registry, { version: '0.0.0-test' });
  new MessagingMetrics(registry, {} as pg.Pool, () => true);
  new SagaMetrics(
    registry,
    () => Promise.resolve([]),
    () => undefined,
  );
  countPrunedSagas(registry);
  new SchedulingMetrics(registry, {} as JobStore, {} as Queryable);
  // The order service's notification counters are made in the dispatcher's constructor, which uses nothing else.
  const unused = {} as never;
  new NotificationDispatcher(unused, unused, unused, unused, unused, unused, registry);
  const names = new Set<string>();
  for (const metric of registry.getMetricsAsArray()) {
    const { name } = metric as unknown as { name: string };
    names.add(name);
    if (metric instanceof Histogram) for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

/** The metric names of our own a query selects (the broker's left to test/broker-metrics.e2e-spec.ts). */
function checkedNames(expr: string): string[] {
  return parsePromQL(grafanaQueryAsSent(expr, { service: '.+' }))
    .selectors.map((s) => s.name)
    .filter((name) => CHECKED_NAME.test(name));
}

/** Each metric name a panel queries that no service registers, as `panel title: name`. */
function unknownMetrics(board: Dashboard, known: ReadonlySet<string>): string[] {
  return panelsOf(board.panels).flatMap((panel) =>
    (panel.targets ?? [])
      .flatMap(({ expr = '' }) => checkedNames(expr).filter((name) => !known.has(name)))
      .map((name) => `${panel.title}: ${name}`),
  );
}

describe('the Grafana dashboard', () => {
  const known = registeredNames();

  it('queries only metrics the code registers', () => {
    expect(unknownMetrics(dashboard, known)).toEqual([]);
  });

  it('would fail on a metric the code does not register', () => {
    const drifted: Dashboard = {
      schemaVersion: 39,
      panels: [
        {
          type: 'row',
          panels: [
            {
              title: 'Renamed',
              type: 'timeseries',
              targets: [{ expr: 'sum(rate(orderflow_relay_published_total[5m])) / sum(orderflow_outbox_pending)' }],
            },
          ],
        },
      ],
    };
    expect(unknownMetrics(drifted, known)).toEqual(['Renamed: orderflow_outbox_pending']);
  });

  it('uses every metric family it is meant to show', () => {
    const used = new Set(
      panelsOf(dashboard.panels).flatMap((p) => (p.targets ?? []).flatMap((t) => checkedNames(t.expr ?? ''))),
    );
    for (const name of [
      'http_server_requests_total',
      'http_server_request_duration_seconds_bucket',
      'orderflow_outbox_pending_messages',
      'orderflow_outbox_oldest_pending_age_seconds',
      'orderflow_relay_publish_latency_seconds_bucket',
      'orderflow_messages_total',
      'orderflow_sagas',
      'orderflow_saga_transitions_total',
      'orderflow_saga_compensations_total',
      'orderflow_saga_step_duration_seconds_bucket',
      'orderflow_saga_deadlines_total',
      'orderflow_saga_instances_pruned_total',
      'orderflow_scheduled_jobs_overdue',
      'orderflow_scheduled_jobs_oldest_overdue_seconds',
      'orderflow_scheduled_job_lag_seconds_bucket',
      'orderflow_notification_attempts_total',
      'orderflow_notifications_settled_total',
      'orderflow_message_handling_duration_seconds_bucket',
      'orderflow_db_pool_connections',
      'orderflow_db_pool_waiting_clients',
      'orderflow_build_info',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it("selects and groups by orderflow_service, never by Prometheus's own target labels", () => {
    // `service` and `instance` are what Prometheus and a ServiceMonitor set on every target; the services' own label
    // is orderflow_service (libs/platform/src/metrics/metrics.ts), so a query using the others means something else.
    const targetLabels = panelsOf(dashboard.panels)
      .flatMap((p) => (p.targets ?? []).map((t) => parsePromQL(grafanaQueryAsSent(t.expr ?? '', { service: '.+' }))))
      .flatMap((q) => [
        ...q.selectors.flatMap((s) => s.matchers.map((m) => m.label)),
        ...q.groupings.flatMap((g) => g.labels),
      ])
      .filter((label) => label === 'service' || label === 'instance');
    expect(targetLabels).toEqual([]);
    const variable = (
      dashboard as unknown as { templating: { list: { name: string; definition?: string }[] } }
    ).templating.list.find((v) => v.name === 'service');
    expect(variable?.definition).toBe('label_values(process_start_time_seconds, orderflow_service)');
  });

  it("is importable with a Prometheus data source of the importer's choice", () => {
    expect(dashboard.schemaVersion).toBe(39);
    const queried = panelsOf(dashboard.panels).filter((p) => p.type !== 'row');
    expect(queried.length).toBeGreaterThan(0);
    for (const panel of queried) expect(panel.datasource?.uid, panel.title).toBe('${DS_PROMETHEUS}');
  });
});
