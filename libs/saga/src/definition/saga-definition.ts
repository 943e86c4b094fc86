/**
 * A saga definition: a table of states and, for each, which event leads where. It is checked when it is defined (at
 * module load), so a saga with a typo in a target state, a state nothing leaves or nothing reaches, or two rows for
 * one event in one state never starts, never reaches a test, and never reaches the diagram.
 *
 * `Initial` (no instance yet) and `Final` (completed, kept) are implicit, as in MassTransit. The definition is
 * plain data plus the activities' functions: `rulesOf` lists every row, with `duringAny` expanded into the states it
 * applies to, which is what the engine selects from and what the diagram draws.
 */
import type { MessageType } from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';
import { type Behavior, type BehaviorSpec, type SagaDsl, sagaDsl } from './behavior.js';
import { compositeOf, type SagaComposite } from './composite.js';
import type { SagaDeadline } from './deadline.js';
import { isLocalEvent } from './local-events.js';

export const INITIAL = 'Initial';
export const FINAL = 'Final';
const RESERVED_NAMES = new Set([INITIAL, FINAL, 'default']);

/**
 * What an event with no row in the current state means: `ignore` (expected noise, such as a late duplicate: recorded
 * as ignored, nothing else), or `record` (worth a look: recorded as unexpected with its data, the instance kept as
 * it is). Either way the message is consumed; refusing it would only retry the same answer.
 */
export type UnexpectedEventPolicy = 'ignore' | 'record';
const POLICIES: readonly UnexpectedEventPolicy[] = ['ignore', 'record'];

// The data a new instance starts with, before the initial event's activities run: required unless every field of
// D is optional, in which case an instance may start as `{}`.
type InitialDataOption<D> =
  Record<never, never> extends D ? { readonly initialData?: () => D } : { readonly initialData: () => D };

export type SagaSpec<D, S extends string> = {
  readonly states: readonly S[];
  /**
   * Which instance an event from the broker is about: its CloudEvents subject unless said otherwise. The id must be
   * a UUID, the store's key; an event whose id is not one is dead-lettered. Deadlines and operators' actions are
   * addressed by the engine itself and always correlate by their subject.
   */
  readonly correlateBy?: (message: IncomingMessage) => string;
  /**
   * Top-level fields of events and commands that hold credentials: the history, which operators read, records that
   * they were there, not what they were. Nothing is redacted unless named here.
   */
  readonly redact?: readonly string[];
  /** Events that create an instance (none exists for the order yet). */
  readonly initially: readonly Behavior<D>[];
  readonly during?: { readonly [K in S]?: readonly Behavior<D>[] };
  /** Rows for every declared state (not `Initial`, not `Final`); a state's own row for the same event wins. */
  readonly duringAny?: readonly Behavior<D>[];
  /** Per state (including `Initial` and `Final`), and a `default`; `record` when not given. */
  readonly unexpected?: { readonly [K in S | typeof INITIAL | typeof FINAL | 'default']?: UnexpectedEventPolicy };
  /** States in which the saga undoes what it did: entering one from any other state is counted as a compensation. */
  readonly compensating?: readonly S[];
  /**
   * States an earlier version of the saga entered and this one no longer does. Instances that are in one when the new
   * version is deployed go on by its rows (and its deadline); no row of a current state may lead into one, and they need
   * not be reachable from `Initial`. Remove a retired state once `GET /sagas?state=…` finds no instance in it.
   */
  readonly retired?: readonly S[];
  /** By message type (or `default`): what an event for an instance that does not exist means. */
  readonly missingInstance?: { readonly [type: string]: MissingInstancePolicy };
  /**
   * How long each state waits: entering the state schedules its deadline, leaving it cancels it, and a row for the
   * deadline's `retry` that stays in the state schedules it again. The state must have rows for the deadline's events.
   */
  readonly deadlines?: { readonly [K in S]?: SagaDeadline };
} & InitialDataOption<D>;

/**
 * What an event means when its instance does not exist and no `initially` row starts one: `discard` it without a
 * trace (late events for instances long finished and pruned), `record` it in the history (the default, through the
 * `unexpected` policy of `Initial`), or `park` it: refuse it for now, so the consumer retries it later (with backoff,
 * then dead-letters it), by when the event that creates the instance has usually arrived.
 */
export type MissingInstancePolicy = 'discard' | 'record' | 'park';
const MISSING_POLICIES: readonly MissingInstancePolicy[] = ['discard', 'record', 'park'];

/** Where a row came from; a row of `duringAny` is listed under each state it applies to. */
export type RuleSource = 'initially' | 'during' | 'duringAny';

/** One row of the saga's table: in state `from`, event `event` runs `behavior` and leads to `to`. */
export interface SagaRule<D> {
  readonly from: string;
  readonly event: string;
  readonly source: RuleSource;
  readonly behavior: BehaviorSpec<D>;
  /** The state after the row: a declared state, `Final`, or `from` itself for `stay` and `ignore`. */
  readonly to: string;
}

export interface SagaDefinition<D> {
  /** The `saga_type` of its instances. */
  readonly type: string;
  /** Declared states in the order written; `Initial` and `Final` are implicit. */
  readonly states: readonly string[];
  readonly initially: readonly BehaviorSpec<D>[];
  readonly during: ReadonlyMap<string, readonly BehaviorSpec<D>[]>;
  readonly duringAny: readonly BehaviorSpec<D>[];
  /** Every message type the saga consumes from the broker, once each, in the order first written: its subscriptions. */
  readonly events: readonly MessageType[];
  /** Every deadline it schedules (a state's, or a row's), by name. */
  readonly deadlines: ReadonlyMap<string, SagaDeadline>;
  /** The deadline of each state that has one. */
  readonly stateDeadlines: ReadonlyMap<string, SagaDeadline>;
  /** The declared states in which the saga undoes its work; empty if the saga has none. */
  readonly compensating: readonly string[];
  /** Declared states kept only for instances an earlier version left in them (`SagaSpec.retired`). */
  readonly retired: readonly string[];
  /** Fields the history keeps out (see `SagaSpec.redact`). */
  readonly redacted: ReadonlySet<string>;
  /** Every composite event a row waits for, by its `completed` type (composite.ts). */
  readonly composites: ReadonlyMap<string, SagaComposite>;
  /** The instance a message is about (see `SagaSpec.correlateBy`); not yet checked to be a UUID. */
  correlationIdOf(message: IncomingMessage): string;
  unexpectedPolicy(state: string): UnexpectedEventPolicy;
  /** For an event of `type` whose instance does not exist (and that no `initially` row handles). */
  missingInstancePolicy(type: string): MissingInstancePolicy;
  initialData(): D;
}

export class InvalidSagaDefinition extends Error {
  override name = 'InvalidSagaDefinition';
  constructor(
    readonly sagaType: string,
    readonly problems: readonly string[],
  ) {
    super(`saga "${sagaType}" is invalid:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Defines a saga. `S`, the union of its state names, is optional: given, a misspelt state is a compile error;
 * omitted, it is still caught here, at definition time.
 *
 * ```ts
 * export const orderSaga = defineSaga<OrderSagaData, OrderState>('order', ({ when, ignore }) => ({
 *   states: ['AwaitingPayment', 'ReservingStock'],
 *   initially: [when(OrderPlaced).then(startFromOrder).send(authorizePayment).transitionTo('AwaitingPayment')],
 *   during: { AwaitingPayment: [when(PaymentAuthorized).send(reserveStock).transitionTo('ReservingStock')] },
 * }));
 * ```
 */
export function defineSaga<D extends object, S extends string = string>(
  type: string,
  build: (dsl: SagaDsl<D, S>) => SagaSpec<D, S>,
): SagaDefinition<D> {
  const spec = build(sagaDsl<D, S>());
  const specsOf = (behaviors: readonly Behavior<D>[] | undefined) => (behaviors ?? []).map((b) => b.spec);
  const during = new Map<string, readonly BehaviorSpec<D>[]>(
    Object.entries(spec.during ?? {}).map(([state, behaviors]) => [state, specsOf(behaviors as Behavior<D>[])]),
  );
  const initially = specsOf(spec.initially);
  const duringAny = specsOf(spec.duringAny);
  const unexpected: Readonly<Record<string, UnexpectedEventPolicy | undefined>> = spec.unexpected ?? {};
  const events = new Map<string, MessageType>();
  const composites = new Map<string, SagaComposite>();
  for (const behavior of [...initially, ...[...during.values()].flat(), ...duringAny]) {
    const composite = compositeOf(behavior.event.type);
    if (composite) composites.set(composite.completed.type, composite);
    // Deadlines, operators' actions and composites are the saga's own messages, never on the broker: a composite's
    // parts are what it subscribes to.
    for (const event of composite ? composite.parts : [behavior.event]) {
      if (!events.has(event.type) && !isLocalEvent(event.type)) events.set(event.type, event);
    }
  }
  const initialData = (spec as { initialData?: () => D }).initialData ?? (() => ({}) as D);
  const missing: Readonly<Record<string, MissingInstancePolicy | undefined>> = spec.missingInstance ?? {};
  const stateDeadlines = new Map<string, SagaDeadline>(
    Object.entries(spec.deadlines ?? {}).filter((e): e is [string, SagaDeadline] => e[1] !== undefined),
  );
  const deadlines = new Map<string, SagaDeadline>([...stateDeadlines.values()].map((d) => [d.name, d]));
  for (const behavior of [...initially, ...[...during.values()].flat(), ...duringAny]) {
    for (const step of behavior.steps) if (step.kind === 'schedule') deadlines.set(step.deadline.name, step.deadline);
  }

  const definition: SagaDefinition<D> = Object.freeze({
    type,
    states: Object.freeze([...spec.states]),
    initially,
    during,
    duringAny,
    events: Object.freeze([...events.values()]),
    deadlines,
    stateDeadlines,
    compensating: Object.freeze([...(spec.compensating ?? [])]),
    retired: Object.freeze([...(spec.retired ?? [])]),
    redacted: new Set(spec.redact ?? []),
    composites,
    correlationIdOf: (message: IncomingMessage) =>
      spec.correlateBy && !isLocalEvent(message.type) ? spec.correlateBy(message) : message.subject,
    unexpectedPolicy: (state: string) => unexpected[state] ?? unexpected.default ?? 'record',
    missingInstancePolicy: (eventType: string) => missing[eventType] ?? missing.default ?? 'record',
    initialData,
  });
  const problems = problemsOf(definition, unexpected);
  for (const [key, policy] of Object.entries(missing)) {
    if (key !== 'default' && !events.has(key))
      problems.push(`\`missingInstance\` names ${key}, which the saga does not consume`);
    if (!MISSING_POLICIES.includes(policy!))
      problems.push(`\`missingInstance\` for ${key} is "${String(policy)}", not one of ${MISSING_POLICIES.join(', ')}`);
  }
  if (problems.length > 0) throw new InvalidSagaDefinition(type, problems);
  return definition;
}

/**
 * The rule an event follows in a state, or undefined if the state has no row for it (the unexpected-event policy
 * applies). A state's own row wins over `duringAny`; `duringAny` does not apply in `Initial` or `Final`.
 */
export function ruleFor<D>(definition: SagaDefinition<D>, state: string, eventType: string): SagaRule<D> | undefined {
  const match = (behaviors: readonly BehaviorSpec<D>[]) => behaviors.find((b) => b.event.type === eventType);
  if (state === INITIAL) {
    const behavior = match(definition.initially);
    return behavior && rule(INITIAL, 'initially', behavior)[0];
  }
  if (state === FINAL || !definition.states.includes(state)) return undefined;
  const own = match(definition.during.get(state) ?? []);
  if (own) return rule(state, 'during', own)[0];
  const any = match(definition.duringAny);
  return any && rule(state, 'duringAny', any)[0];
}

/** Every row of the table, in the order written: `initially`, then each state's own rows and its `duringAny` rows. */
export function rulesOf<D>(definition: SagaDefinition<D>): SagaRule<D>[] {
  const rules = definition.initially.flatMap((b) => rule(INITIAL, 'initially', b));
  for (const state of definition.states) {
    const own = definition.during.get(state) ?? [];
    rules.push(...own.flatMap((b) => rule(state, 'during', b)));
    const overridden = new Set(own.map((b) => b.event.type));
    rules.push(
      ...definition.duringAny.filter((b) => !overridden.has(b.event.type)).flatMap((b) => rule(state, 'duringAny', b)),
    );
  }
  return rules;
}

/** The row, or for a choice one row per possible target (the engine picks among them when the event comes). */
function rule<D>(from: string, source: RuleSource, behavior: BehaviorSpec<D>): SagaRule<D>[] {
  const { outcome } = behavior;
  const targets =
    outcome.kind === 'transition'
      ? [outcome.to]
      : outcome.kind === 'choice'
        ? outcome.to
        : outcome.kind === 'finalize'
          ? [FINAL]
          : [from];
  return targets.map((to) => ({ from, event: behavior.event.type, source, behavior, to }));
}

/** Everything wrong with a definition, all at once: its names first, then (if they are right) its table's shape. */
function problemsOf<D>(
  definition: SagaDefinition<D>,
  unexpected: Readonly<Record<string, UnexpectedEventPolicy | undefined>>,
): string[] {
  const problems = [...namingProblems(definition, unexpected), ...rowProblems(definition)];
  // The checks below walk the table, which only means something once its names are right.
  if (problems.length > 0) return problems;
  const rules = rulesOf(definition);
  return [
    ...deadlineProblems(definition, rules),
    ...compositeProblems(definition, rules),
    ...reachabilityProblems(definition, rules),
  ];
}

/** The saga's type and states, and the states and policies that `compensating` and `unexpected` name. */
function namingProblems<D>(
  definition: SagaDefinition<D>,
  unexpected: Readonly<Record<string, UnexpectedEventPolicy | undefined>>,
): string[] {
  const problems: string[] = [];
  const { type, states, initially, during } = definition;
  const declared = new Set(states);
  if (!/^[a-z][a-z0-9-]*$/.test(type)) problems.push(`the saga type "${type}" is not lower-case-kebab`);
  if (states.length === 0) problems.push('no states are declared');
  const seen = new Set<string>();
  for (const state of states) {
    // State names become Mermaid node ids and `state` column values.
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(state)) problems.push(`the state name "${state}" is not an identifier`);
    if (RESERVED_NAMES.has(state)) problems.push(`"${state}" is reserved and cannot be declared as a state`);
    if (seen.has(state)) problems.push(`the state "${state}" is declared twice`);
    seen.add(state);
  }
  if (initially.length === 0) problems.push('nothing in `initially`: no event can start the saga');
  for (const behavior of initially) {
    if (behavior.outcome.kind === 'stay') {
      problems.push(`initially, ${behavior.event.type} must transitionTo a state, finalize, or be ignored`);
    }
  }
  for (const state of during.keys()) {
    if (!declared.has(state)) problems.push(`\`during\` names "${state}", which is not a declared state`);
  }
  for (const state of definition.compensating) {
    if (!declared.has(state)) problems.push(`\`compensating\` names "${state}", which is not a declared state`);
  }
  for (const state of definition.retired) {
    if (!declared.has(state)) problems.push(`\`retired\` names "${state}", which is not a declared state`);
  }
  for (const key of Object.keys(unexpected)) {
    if (!declared.has(key) && !RESERVED_NAMES.has(key)) {
      problems.push(`\`unexpected\` names "${key}", which is not a declared state, Initial, Final or default`);
    }
    if (!POLICIES.includes(unexpected[key]!)) {
      problems.push(`\`unexpected\` for "${key}" is "${String(unexpected[key])}", not one of ${POLICIES.join(', ')}`);
    }
  }
  return problems;
}

/** In each list of rows: one row per event, and targets that are declared states. */
function rowProblems<D>(definition: SagaDefinition<D>): string[] {
  const problems: string[] = [];
  const declared = new Set(definition.states);
  const lists: [string, readonly BehaviorSpec<D>[]][] = [
    ['initially', definition.initially],
    ...[...definition.during].map(([state, behaviors]): [string, readonly BehaviorSpec<D>[]] => [
      `during ${state}`,
      behaviors,
    ]),
    ['duringAny', definition.duringAny],
  ];
  for (const [where, behaviors] of lists) {
    const events = new Set<string>();
    for (const { event, outcome } of behaviors) {
      if (events.has(event.type)) problems.push(`${where} has two rows for ${event.type}`);
      events.add(event.type);
      const targets = outcome.kind === 'transition' ? [outcome.to] : outcome.kind === 'choice' ? outcome.to : [];
      for (const to of targets.filter((t) => !declared.has(t))) {
        const hint = to === FINAL ? ' (use finalize())' : '';
        problems.push(`${where}, ${event.type} goes to "${to}", which is not a declared state${hint}`);
      }
      if (outcome.kind === 'choice' && outcome.to.length === 0)
        problems.push(`${where}, ${event.type} has no state to choose`);
    }
  }
  return problems;
}

/**
 * The deadlines that can be running while an instance is in `state`: its own (set on entering it), and every one a row
 * schedules as it enters or stays in it — a state that starts two steps at once has one for each.
 */
export function deadlinesIn<D>(
  definition: SagaDefinition<D>,
  state: string,
  rules: readonly SagaRule<D>[] = rulesOf(definition),
): SagaDeadline[] {
  const found = new Map<string, SagaDeadline>();
  const own = definition.stateDeadlines.get(state);
  if (own) found.set(own.name, own);
  for (const rule of rules.filter((r) => r.to === state)) {
    for (const step of rule.behavior.steps) if (step.kind === 'schedule') found.set(step.deadline.name, step.deadline);
  }
  return [...found.values()];
}

/** A state in which a deadline can run has rows for what the deadline sends. */
function deadlineProblems<D>(definition: SagaDefinition<D>, rules: readonly SagaRule<D>[]): string[] {
  const problems: string[] = [];
  for (const state of definition.stateDeadlines.keys()) {
    if (!definition.states.includes(state))
      problems.push(`\`deadlines\` names "${state}", which is not a declared state`);
  }
  for (const state of definition.states) {
    const handles = (type: string) => rules.some((r) => r.from === state && r.event === type);
    for (const deadline of deadlinesIn(definition, state, rules)) {
      if (!handles(deadline.expired.type))
        problems.push(`${state} has the ${deadline.name} deadline but no row for ${deadline.expired.type}`);
      if (deadline.retries > 0 && !handles(deadline.retry.type)) {
        problems.push(
          `${state}'s ${deadline.name} deadline retries, but ${state} has no row for ${deadline.retry.type}`,
        );
      }
    }
  }
  return problems;
}

/**
 * A composite waits in the state of its row, whose arrivals the instance keeps until it leaves: so its row is a
 * state's own and leaves the state, its parts' rows there only stay (a part that moved on would forget the others),
 * and no part counts for two composites in one state.
 */
function compositeProblems<D>(definition: SagaDefinition<D>, rules: readonly SagaRule<D>[]): string[] {
  const problems: string[] = [];
  const counted = new Map<string, string>();
  for (const rule of rules) {
    const composite = definition.composites.get(rule.event);
    if (!composite) continue;
    const where = `${rule.source === 'during' ? rule.from : rule.source}, ${rule.event}`;
    if (rule.source !== 'during') {
      problems.push(`${where}: a composite waits in one state, so its row belongs in \`during\``);
      continue;
    }
    if (rule.to === rule.from || rule.behavior.outcome.kind === 'ignore')
      problems.push(`${where} must leave the state: what had arrived is forgotten only by leaving it`);
    for (const part of composite.parts) {
      const own = ruleFor(definition, rule.from, part.type);
      if (own && own.behavior.outcome.kind !== 'stay')
        problems.push(`${rule.from}, ${part.type} is a part of ${composite.name} there: its own row may only stay`);
      const other = counted.get(`${rule.from} ${part.type}`);
      if (other) problems.push(`${rule.from}, ${part.type} is a part of both ${other} and ${composite.name}`);
      counted.set(`${rule.from} ${part.type}`, composite.name);
    }
  }
  return problems;
}

/**
 * The composite whose part `eventType` is, if `state` has a row for it: the instance there records the part's arrival,
 * and the composite's row runs once its last part arrives.
 */
export function compositeWaitingFor<D>(
  definition: SagaDefinition<D>,
  state: string,
  eventType: string,
): SagaComposite | undefined {
  if (definition.composites.size === 0) return undefined;
  for (const behavior of definition.during.get(state) ?? []) {
    const composite = definition.composites.get(behavior.event.type);
    if (composite?.parts.some((p) => p.type === eventType)) return composite;
  }
  return undefined;
}

/** An event's name for people (diagram, table): its type, or for a composite the parts it waits for. */
export function eventLabel<D>(definition: SagaDefinition<D>, type: string): string {
  const composite = definition.composites.get(type);
  return composite ? `${composite.parts.map((p) => p.type).join(' + ')} (all arrived)` : type;
}

/**
 * Every state is reached from Initial and has a way out. A retired state is reached by the instances an earlier version
 * left in it, and by nothing else: no current row may lead into one.
 */
function reachabilityProblems<D>(definition: SagaDefinition<D>, rules: readonly SagaRule<D>[]): string[] {
  const problems: string[] = [];
  for (const state of definition.states) {
    if (!rules.some((r) => r.from === state && r.to !== state)) {
      problems.push(`the state "${state}" has no row that leaves it: an instance there would wait forever`);
    }
  }
  const retired = new Set(definition.retired);
  for (const r of rules) {
    if (retired.has(r.to) && !retired.has(r.from)) {
      problems.push(`${r.from}, ${r.event} goes to "${r.to}", which is retired: nothing new may enter it`);
    }
  }
  const reached = new Set([INITIAL, ...retired]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rules) {
      if (reached.has(r.from) && !reached.has(r.to)) {
        reached.add(r.to);
        grew = true;
      }
    }
  }
  for (const state of definition.states) {
    if (!reached.has(state)) problems.push(`the state "${state}" cannot be reached from Initial`);
  }
  return problems;
}
