// The dashboard's broker panels show something: every `rabbitmq_*` selector a panel queries matches series that the
// test profile's broker really exports — per-queue ones included, which only `prometheus.return_per_object_metrics`
// gives (every orderflow deployment sets it: deploy/rabbitmq/rabbitmq.conf). The services' own metrics are held to
// the code by deploy/grafana/dashboard.spec.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExposition, type Series, testEnvironment } from '@orderflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';

interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}
interface Selector {
  text: string;
  name: string;
  matchers: Matcher[];
}
interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

const PROMQL_STRING = String.raw`"((?:[^"\\]|\\.)*)"`;

function unquote(value: string): string {
  return JSON.parse(`"${value}"`) as string;
}

/** The broker metric selectors of a PromQL expression: `rabbitmq_x{label="v", other!~"re"}`. */
function brokerSelectors(expr: string): Selector[] {
  return [...expr.matchAll(/\b(rabbitmq_[a-z0-9_]+)(?:\{([^}]*)\})?/g)].map(([text, name, body = '']) => ({
    text,
    name,
    matchers: [...body.matchAll(new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*${PROMQL_STRING}`, 'g'))].map(
      ([, label, op, value]) => ({ label, op: op as Matcher['op'], value: unquote(value) }),
    ),
  }));
}

/** PromQL's semantics: a missing label is the empty string; regular expressions are anchored at both ends. */
function matches(series: Series, selector: Selector): boolean {
  if (series.name !== selector.name) return false;
  return selector.matchers.every(({ label, op, value }) => {
    const actual = series.labels[label] ?? '';
    const re = new RegExp(`^(?:${value})$`);
    return op === '='
      ? actual === value
      : op === '!='
        ? actual !== value
        : op === '=~'
          ? re.test(actual)
          : !re.test(actual);
  });
}

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

/** Each broker selector of the dashboard that matches no exported series, as `panel title: selector`. */
function unmatched(panels: readonly Panel[], exported: readonly Series[]): string[] {
  return panelsOf(panels).flatMap((panel) =>
    (panel.targets ?? [])
      .flatMap(({ expr = '' }) => brokerSelectors(expr))
      .filter((selector) => !exported.some((series) => matches(series, selector)))
      .map((selector) => `${panel.title}: ${selector.text}`),
  );
}

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, '../deploy/grafana/orderflow-dashboard.json'), 'utf8'),
) as { panels: Panel[] };

let exported: Series[];

beforeAll(async () => {
  const res = await fetch(testEnvironment.brokerMetricsUrl());
  expect(res.status).toBe(200);
  exported = parseExposition(await res.text()).series;
});

describe("the dashboard's broker panels, against the broker's own /metrics", () => {
  it('query broker metrics, every one of which the broker exports', () => {
    expect(
      panelsOf(dashboard.panels)
        .flatMap((p) => p.targets ?? [])
        .some((t) => t.expr?.includes('rabbitmq_')),
    ).toBe(true);
    expect(unmatched(dashboard.panels, exported)).toEqual([]);
  });

  it('get one series per queue, dead-letter queues included', () => {
    const queues = exported.filter((s) => s.name === 'rabbitmq_queue_messages_ready').map((s) => s.labels.queue);
    expect(queues).toContain('saga.events');
    expect(queues).toContain('saga.events.dlq');
  });

  it('would report a selector no series matches', () => {
    const drifted: Panel[] = [
      { title: 'Gone', targets: [{ expr: 'sum(rabbitmq_queue_messages_ready{queue="no.such.queue"})' }] },
    ];
    expect(unmatched(drifted, exported)).toEqual(['Gone: rabbitmq_queue_messages_ready{queue="no.such.queue"}']);
  });
});
