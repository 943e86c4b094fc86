/**
 * A saga's state diagram as Mermaid `stateDiagram-v2`, drawn from the same rows the engine selects from
 * (`rulesOf`), so a generated document cannot disagree with what runs. The output depends only on the definition
 * and lists rows in the order they are written, so regenerating an unchanged saga changes nothing.
 *
 * `[*]` is `Initial` as a source and `Final` as a target. A row that keeps the state is a loop; a `duringAny` row
 * is drawn from each state it applies to and marked "(any state)"; a composite's row is labelled with its parts; the
 * events a state ignores are a note beside it. Retired states (kept only for instances an earlier version left in them)
 * are left out: nothing new enters them, and the table of transitions lists their rows.
 */
import { eventLabel, FINAL, INITIAL, rulesOf, type SagaDefinition } from '../definition/saga-definition.js';

export function toMermaid<D>(definition: SagaDefinition<D>): string {
  const lines = ['stateDiagram-v2'];
  const ignored = new Map<string, string[]>();
  const retired = new Set(definition.retired);
  for (const rule of rulesOf(definition).filter((r) => !retired.has(r.from))) {
    if (rule.behavior.outcome.kind === 'ignore') {
      if (rule.from !== INITIAL) ignored.set(rule.from, [...(ignored.get(rule.from) ?? []), rule.event]);
      continue;
    }
    const from = rule.from === INITIAL ? '[*]' : rule.from;
    const to = rule.to === FINAL ? '[*]' : rule.to;
    const event = eventLabel(definition, rule.event);
    const label = rule.source === 'duringAny' ? `${event} (any state)` : event;
    lines.push(`  ${from} --> ${to} : ${label}`);
  }
  for (const [state, events] of ignored) lines.push(`  note right of ${state} : ignores ${events.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
