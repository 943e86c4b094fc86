// Monitoring that works when applied: every metric each alert (deploy/k8s/monitoring/alerts.yaml) and each dashboard
// query (deploy/grafana/orderflow-dashboard.json) selects is one the running suite really exports — the five services'
// /metrics after an order went through them, and the test broker's own /metrics — with no family left out, the
// broker's included. Where a family has series, the labels a query selects or groups by must be on them (a query by
// `service` or `instance` selects nothing: the services' own label is `orderflow_service`), and a broker selector must
// match a series, since its per-queue series are what the alerts and panels read. Queries are read with Prometheus's
// own PromQL grammar (libs/testing/src/promql.ts).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  asOperator,
  bearer,
  createMerchant,
  type Exposition,
  grafanaQueryAsSent,
  parseExposition,
  parsePromQL,
  type PromQuery,
  type Selector,
  type Series,
  ServiceProcess,
  SimulatorProcess,
  simulatorPorts,
  testEnvironment,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Query {
  /** Where it is written: `alert OrderflowDeadLetters`, `panel "Outbox pending"`. */
  where: string;
  query: PromQuery;
}
interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; definition?: string }[] };
}
type Rules = { spec: { groups: { rules: { alert?: string; expr: string }[] }[] } };

const ROOT = join(import.meta.dirname, '..');
/** What the dashboard's variable `service` is set to with "All" selected (its allValue). */
const GRAFANA_ALL = { service: '.+' };

function alertQueries(rules: Rules): Query[] {
  return rules.spec.groups.flatMap((g) =>
    g.rules.map((rule) => ({ where: `alert ${rule.alert}`, query: parsePromQL(rule.expr) })),
  );
}

function dashboardQueries(dashboard: Dashboard): Query[] {
  const panelsOf = (panels: readonly Panel[]): Panel[] => panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
  const panels = panelsOf(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map(({ expr = '' }) => ({
      where: `panel "${panel.title}"`,
      query: parsePromQL(grafanaQueryAsSent(expr, GRAFANA_ALL)),
    })),
  );
  // A variable's label_values(<selector>, <label>) selects like `max by (<label>) (<selector>)`.
  const variables = dashboard.templating.list.flatMap(({ name, definition = '' }): Query[] => {
    const labelValues = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(definition);
    if (!labelValues) return [];
    return [{ where: `variable ${name}`, query: parsePromQL(`max by (${labelValues[2]}) (${labelValues[1]})`) }];
  });
  return [...panels, ...variables];
}

/** PromQL's semantics: a missing label is the empty string; regular expressions are anchored at both ends. */
function matches(series: Series, selector: Selector): boolean {
  return (
    series.name === selector.name &&
    selector.matchers.every(({ label, op, value }) => {
      const actual = series.labels[label] ?? '';
      const re = new RegExp(`^(?:${value})$`);
      if (op === '=') return actual === value;
      if (op === '!=') return actual !== value;
      return op === '=~' ? re.test(actual) : !re.test(actual);
    })
  );
}

/** What would keep a query from showing what it means, one line each: `<where>: <problem>`. */
function problemsOf(queries: readonly Query[], exported: Exposition): string[] {
  const seriesOf = (name: string) => exported.series.filter((s) => s.name === name);
  const hasLabel = (name: string, label: string) => seriesOf(name).some((s) => label in s.labels);
  return queries.flatMap(({ where, query }) => {
    const problems: string[] = [];
    for (const selector of query.selectors) {
      if (!exported.names.has(selector.name)) {
        problems.push(`${where}: ${selector.name} is not exported`);
        continue;
      }
      if (seriesOf(selector.name).length === 0) continue;
      for (const { label } of selector.matchers) {
        if (!hasLabel(selector.name, label)) problems.push(`${where}: ${selector.name} has no label ${label}`);
      }
      if (selector.name.startsWith('rabbitmq_') && !exported.series.some((s) => matches(s, selector))) {
        problems.push(`${where}: no series matches ${selector.text}`);
      }
    }
    for (const { labels, selectors } of query.groupings) {
      const withSeries = selectors.filter((s) => seriesOf(s.name).length > 0);
      if (withSeries.length === 0) continue;
      for (const label of labels) {
        if (!withSeries.some((s) => hasLabel(s.name, label))) {
          problems.push(`${where}: grouped by ${label}, which ${withSeries.map((s) => s.name).join(', ')} lack`);
        }
      }
    }
    return problems;
  });
}

const alerts = alertQueries(parse(readFileSync(join(ROOT, 'deploy/k8s/monitoring/alerts.yaml'), 'utf8')) as Rules);
const dashboard = dashboardQueries(
  JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/orderflow-dashboard.json'), 'utf8')) as Dashboard,
);

const ports = simulatorPorts();
const gateway = new SimulatorProcess('payment-gateway', ports.paymentGateway);
const carrier = new SimulatorProcess('carrier', ports.carrier, { DELIVERY_DELAY_MS: '0' });
const services = {
  order: new ServiceProcess('order', { ORDERFLOW_COMMIT: '0123456789abcdef0123456789abcdef01234567' }),
  payment: new ServiceProcess('payment', { PAYMENT_GATEWAY_URL: gateway.url }),
  warehouse: new ServiceProcess('warehouse'),
  logistics: new ServiceProcess('logistics', { CARRIER_URL: carrier.url }),
  saga: new ServiceProcess('saga'),
};
const all = Object.values(services);
let exported: Exposition;
let scraped: Record<string, Exposition>;

/** One order from placement to shipment, so that the consumers, the saga and the HTTP edge have series to show. */
async function shipOneOrder(): Promise<void> {
  const merchant = await createMerchant(services.order.url, 'Monitoring');
  const sku = `MON-${randomUUID().slice(0, 8)}`;
  const put = await fetch(`${services.warehouse.url}/stock/${sku}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...asOperator() },
    body: JSON.stringify({ onHand: 5 }),
  });
  expect(put.status).toBe(200);
  const placed = await fetch(`${services.order.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...bearer(merchant.apiKey) },
    body: JSON.stringify({
      customerId: 'customer-monitoring',
      currency: 'EUR',
      items: [{ sku, quantity: 1, unitPrice: 1999 }],
      payment: { method: 'card', token: 'tok_ok' },
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Oslo', postalCode: '0150', country: 'NO' },
    }),
  });
  expect(placed.status).toBe(202);
  const { orderId } = (await placed.json()) as { orderId: string };
  await waitFor(
    async () => {
      const res = await fetch(`${services.order.url}/orders/${orderId}`, { headers: bearer(merchant.apiKey) });
      return ['SHIPPED', 'DELIVERED'].includes(((await res.json()) as { status: string }).status);
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `order ${orderId} to ship` },
  );
}

async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return parseExposition(await res.text());
}

beforeAll(async () => {
  await gateway.start();
  await carrier.start();
  all.forEach((s) => s.start());
  await Promise.all(all.map((s) => s.waitReady()));
  await shipOneOrder();
  scraped = Object.fromEntries([
    ...(await Promise.all(all.map(async (s) => [s.service, await scrape(`${s.url}/metrics`)] as const))),
    ['broker', await scrape(testEnvironment.brokerMetricsUrl())],
  ]);
  exported = {
    names: new Set(Object.values(scraped).flatMap((e) => [...e.names])),
    series: Object.values(scraped).flatMap((e) => e.series),
  };
}, 180_000);

afterAll(async () => {
  await Promise.all(all.map((s) => s.stop().catch(() => s.kill())));
  await gateway.stop();
  await carrier.stop();
});

describe('the monitoring, against what the running suite exports', () => {
  // Labels can only be held to the series there are: the families a query uses that this run gave no series yet
  // (exported by name only, such as the count of failed notifications) are named in the output.
  const withoutSeries = (queries: readonly Query[]) => [
    ...new Set(
      queries.flatMap(({ query }) =>
        query.selectors.map((s) => s.name).filter((name) => !exported.series.some((x) => x.name === name)),
      ),
    ),
  ];

  it('alerts only on metrics that are exported, with the labels they select and group by', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    expect(problemsOf(alerts, exported)).toEqual([]);
    console.info(`alerts: labels not checked, no series yet: ${withoutSeries(alerts).join(', ') || 'none'}`);
  });

  it('charts only metrics that are exported, with the labels it selects and groups by', () => {
    expect(dashboard.length).toBeGreaterThan(20);
    expect(problemsOf(dashboard, exported)).toEqual([]);
    console.info(`dashboard: labels not checked, no series yet: ${withoutSeries(dashboard).join(', ') || 'none'}`);
  });

  it('gets from every service its build, its database pools and its handlers, under orderflow_service alone', () => {
    for (const [service, exposition] of Object.entries(scraped).filter(([name]) => name !== 'broker')) {
      const ours = exposition.series.filter((s) => !s.name.startsWith('rabbitmq_'));
      expect(new Set(ours.map((s) => s.labels.orderflow_service)), service).toEqual(new Set([service]));
      // Prometheus's own target labels, which a metric label would collide with.
      expect(
        ours.filter((s) => 'service' in s.labels || 'instance' in s.labels),
        service,
      ).toEqual([]);
      const info = exposition.series.filter((s) => s.name === 'orderflow_build_info');
      expect(
        info.map((s) => s.labels.node_version),
        service,
      ).toEqual([process.version]);
      expect(
        exposition.series.filter((s) => s.name === 'orderflow_db_pool_max_connections').map((s) => s.labels.pool),
        service,
      ).toEqual(expect.arrayContaining(['main', 'relay']));
    }
    expect(scraped.order.series.find((s) => s.name === 'orderflow_build_info')?.labels.commit).toBe(
      '0123456789abcdef0123456789abcdef01234567',
    );
    expect(scraped.payment.series.find((s) => s.name === 'orderflow_build_info')?.labels.commit).toBe('unknown');
    // One observation per message handled: the saga handled at least the order's placement and its payment.
    const handled = scraped.saga.series.filter(
      (s) => s.name === 'orderflow_message_handling_duration_seconds_count' && s.labels.queue === 'saga.events',
    );
    expect(handled.map((s) => s.labels.type)).toEqual(expect.arrayContaining(['order.placed.v1']));
  });

  it('would report a metric nobody exports, a label our metrics lack, and a broker selector matching nothing', () => {
    const drifted: Query[] = [
      { where: 'alert Renamed', query: parsePromQL('orderflow_outbox_oldest_pending_age > 60') },
      { where: 'alert Collides', query: parsePromQL('max by (service) (orderflow_broker_connected{instance=~".+"})') },
      { where: 'alert NoQueue', query: parsePromQL('rabbitmq_queue_consumers{queue="no.such.queue"} == 0') },
    ];
    expect(problemsOf(drifted, exported)).toEqual([
      'alert Renamed: orderflow_outbox_oldest_pending_age is not exported',
      'alert Collides: orderflow_broker_connected has no label instance',
      'alert Collides: grouped by service, which orderflow_broker_connected lack',
      'alert NoQueue: no series matches rabbitmq_queue_consumers{queue="no.such.queue"}',
    ]);
  });
});
