import { describe, expect, it } from 'vitest';
import { grafanaQueryAsSent, parsePromQL, PromQLSyntaxError } from './promql.js';

describe('parsePromQL', () => {
  it('finds every selector with its matchers, and the labels each aggregation groups by', () => {
    const query = parsePromQL(
      'histogram_quantile(0.99, sum by (orderflow_service, le) (rate(x_bucket{orderflow_service=~".+", queue!~".+\\\\.dlq"}[5m]))) / on (queue) group_left max without (pod) (y) > 0',
    );
    expect(query.selectors).toEqual([
      {
        text: 'x_bucket{orderflow_service=~".+", queue!~".+\\\\.dlq"}',
        name: 'x_bucket',
        matchers: [
          { label: 'orderflow_service', op: '=~', value: '.+' },
          { label: 'queue', op: '!~', value: '.+\\.dlq' },
        ],
      },
      { text: 'y', name: 'y', matchers: [] },
    ]);
    expect(query.groupings).toEqual([{ labels: ['orderflow_service', 'le'], selectors: [query.selectors[0]] }]);
  });

  it('takes label names, functions and keywords for what they are, never for metrics', () => {
    const names = parsePromQL(
      'sum by (orderflow_service) (increase(orderflow_notifications_settled_total{state="FAILED"}[15m])) > 0 and on () vector(1)',
    ).selectors.map((s) => s.name);
    expect(names).toEqual(['orderflow_notifications_settled_total']);
  });

  it('refuses what is not PromQL', () => {
    expect(() => parsePromQL('sum(rate(x[5m])')).toThrow(PromQLSyntaxError);
    expect(() => parsePromQL('x{a="b"')).toThrow(PromQLSyntaxError);
  });
});

describe('grafanaQueryAsSent', () => {
  it("replaces Grafana's interval variables and a dashboard variable's All value, and refuses an unknown one", () => {
    expect(grafanaQueryAsSent('rate(x{s=~"$service"}[$__rate_interval])', { service: '.+' })).toBe(
      'rate(x{s=~".+"}[5m])',
    );
    expect(() => grafanaQueryAsSent('x{s="${other}"}', { service: '.+' })).toThrow('unknown Grafana variable ${other}');
  });
});
