/**
 * What a PromQL query selects: its metric selectors (name and label matchers) and the labels it groups by, read with
 * Prometheus's own grammar — @prometheus-io/lezer-promql, the parser of the Prometheus web UI, published from the
 * prometheus/prometheus repository — rather than with regular expressions, which cannot tell a metric from a label
 * (`by (orderflow_service)`), a function or a keyword. A query the grammar cannot parse is an error, never skipped.
 */
import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  label: string;
  op: MatchOp;
  value: string;
}

export interface Selector {
  /** As written: `rabbitmq_queue_messages_ready{queue=~".*\\.dlq"}`. */
  text: string;
  name: string;
  matchers: LabelMatcher[];
}

/** `sum by (queue, type) (…)`: the labels, and the selectors of the aggregated expression they must come from. */
export interface Grouping {
  labels: string[];
  selectors: Selector[];
}

export interface PromQuery {
  selectors: Selector[];
  groupings: Grouping[];
}

export class PromQLSyntaxError extends Error {}

/** Parses one PromQL expression; throws PromQLSyntaxError where the grammar finds an error. */
export function parsePromQL(expr: string): PromQuery {
  const tree = parser.parse(expr);
  const errors: number[] = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  if (errors.length > 0) {
    throw new PromQLSyntaxError(`not PromQL at position ${errors[0]}: ${expr}`);
  }
  const text = (node: SyntaxNode) => expr.slice(node.from, node.to);
  const selectorsIn = (root: SyntaxNode): Selector[] =>
    descendants(root, 'VectorSelector').map((selector) => {
      const name = selector.getChild('Identifier');
      return {
        text: text(selector),
        name: name ? text(name) : '',
        matchers: (selector.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []).map((m) => ({
          label: text(m.getChild('LabelName')!),
          op: text(m.getChild('MatchOp')!) as MatchOp,
          value: unquote(text(m.getChild('StringLiteral')!)),
        })),
      };
    });
  const groupings = descendants(tree.topNode, 'AggregateExpr').flatMap((aggregate): Grouping[] => {
    const modifier = aggregate.getChild('AggregateModifier');
    // `without (…)` names labels to drop, which need not exist; only `by (…)` says which ones the result has.
    if (!modifier?.getChild('By')) return [];
    const body = aggregate.getChild('FunctionCallBody');
    return [
      {
        labels: modifier.getChild('GroupingLabels')?.getChildren('LabelName').map(text) ?? [],
        selectors: body ? selectorsIn(body) : [],
      },
    ];
  });
  return { selectors: selectorsIn(tree.topNode), groupings };
}

/** The nodes named `name` under `root`, in document order, nested ones included. */
function descendants(root: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = root.firstChild; child; child = child.nextSibling) {
    if (child.name === name) found.push(child, ...descendants(child, name));
    else found.push(...descendants(child, name));
  }
  return found;
}

/** A PromQL string literal's value: double- or single-quoted with Go escapes, or a raw backquoted string. */
function unquote(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  if (quote === "'") return JSON.parse(`"${body.replaceAll("\\'", "'").replaceAll('"', '\\"')}"`) as string;
  return JSON.parse(literal) as string;
}

/**
 * A Grafana panel's query as Prometheus receives it: `$__rate_interval` and its kin become a duration, and a
 * dashboard variable its "All" value. An unknown variable is an error, so a new one is not parsed as something else.
 */
export function grafanaQueryAsSent(expr: string, allValues: Readonly<Record<string, string>>): string {
  return expr.replace(/\$(\{)?(\w+)(?:\})?/g, (whole, _brace, name: string) => {
    if (['__rate_interval', '__interval', '__range'].includes(name)) return '5m';
    if (name in allValues) return allValues[name];
    throw new Error(`unknown Grafana variable ${whole} in ${expr}`);
  });
}
