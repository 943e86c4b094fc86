/**
 * The decision at the heart of the engine, with no I/O: given a definition, the instance as loaded (or none) and
 * one event, which row applies, what the activities make of the data, which messages go out, and which history
 * rows describe it. The engine persists the result; unit tests call this with values.
 *
 * Guarantee: nothing here is visible until the caller persists it. An activity that throws leaves the loaded
 * instance untouched (it works on a copy) and no message stated, so the unit of work rolls back whole and the
 * message is retried from the instance as it was.
 */
import { checkVerb, type OutgoingMessage } from '@orderflow/contracts';
import { type IncomingMessage, TransientError } from '@orderflow/messaging';
import type { SagaContext } from '../definition/saga-context.js';
import type { DeadlineData, SagaDeadline } from '../definition/deadline.js';
import { OperatorRetry } from '../definition/operator-actions.js';
import type { CompositeData, SagaComposite } from '../definition/composite.js';
import {
  compositeWaitingFor,
  FINAL,
  INITIAL,
  ruleFor,
  type SagaDefinition,
  type SagaRule,
} from '../definition/saga-definition.js';
import type { SagaHistoryRecord } from '../store/saga-store.js';

/** The event waits for its instance (policy `park`): the consumer retries it later, and dead-letters it in the end. */
export class SagaInstanceMissing extends TransientError {
  constructor(sagaType: string, correlationId: string, message: IncomingMessage) {
    super(`no ${sagaType} saga for ${correlationId} yet: ${message.type} ${message.id} is parked until it exists`);
  }
}

/** An instance as stored: `version` is what the optimistic update expects to find. */
export interface SagaInstance<D> {
  readonly state: string;
  readonly data: D;
  readonly version: number;
  /** The parts of composites that have arrived in this state (composite.ts); none if omitted. */
  readonly arrived?: readonly string[];
}

export interface OutgoingSagaMessage {
  readonly how: 'send' | 'publish';
  readonly message: OutgoingMessage;
}

/**
 * - `applied`: a row ran (it may have kept the state);
 * - `ignored`: a row or the state's policy says the event means nothing here;
 * - `unexpected`: no row, and the state's policy is to record it.
 */
export type SagaDecision = 'applied' | 'ignored' | 'unexpected';

/** A deadline a row asked for: scheduled for the state the row leads to, as its `attempt`-th firing there. */
export interface DeadlineRequest {
  readonly deadline: SagaDeadline;
  readonly attempt: number;
}

export interface SagaStep<D> {
  readonly decision: SagaDecision;
  readonly from: string;
  readonly to: string;
  /** `create` a new instance, `update` the loaded one, or write `none` (only history). */
  readonly write: 'create' | 'update' | 'none';
  readonly data: D;
  /** What the instance keeps as arrived after the step: nothing once it leaves its state. */
  readonly arrived: readonly string[];
  readonly outgoing: readonly OutgoingSagaMessage[];
  readonly history: readonly SagaHistoryRecord[];
  readonly schedule: readonly DeadlineRequest[];
  readonly unschedule: readonly SagaDeadline[];
}

export async function applyEvent<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D> | undefined,
  message: IncomingMessage,
): Promise<SagaStep<D>> {
  const from = instance?.state ?? INITIAL;
  const composite = instance && compositeWaitingFor(definition, from, message.type);
  if (composite) return applyPart(definition, instance, message, composite);
  const rule = ruleFor(definition, from, message.type);
  if (!instance && !rule) {
    const policy = definition.missingInstancePolicy(message.type);
    if (policy === 'park') throw new SagaInstanceMissing(definition.type, definition.correlationIdOf(message), message);
    if (policy === 'discard') return unchanged(definition, instance, from, 'ignored', []);
  }
  if (!rule || rule.behavior.outcome.kind === 'ignore') return notApplied(definition, instance, message, from, rule);

  const ran = await runSteps(definition, rule, startingData(definition, instance), message);
  const to = targetOf(rule, ran.data);
  return {
    decision: 'applied',
    from,
    to,
    write: instance ? 'update' : 'create',
    data: ran.data,
    arrived: to === from ? (instance?.arrived ?? []) : [],
    outgoing: ran.outgoing,
    history: [...eventRecords(definition, rule, message, ran.outgoing, to), ...transitionRecords(rule, message, to)],
    schedule: deadlinesFor(definition, ran.scheduled, message, from, to),
    unschedule: ran.unscheduled,
  };
}

/**
 * A part of a composite the state waits for: counted once (a second copy is ignored), its own row run if the state
 * has one (it only stays), and once every part is in, the composite's row, as the composite's own event raised with
 * this message's id and subject. The arrival is written on the instance, so the version check orders two parts
 * handled at once.
 */
async function applyPart<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  message: IncomingMessage,
  composite: SagaComposite,
): Promise<SagaStep<D>> {
  const from = instance.state;
  const before = instance.arrived ?? [];
  if (before.includes(message.type)) {
    const reason = `already arrived for ${composite.name} in ${from}`;
    const record: SagaHistoryRecord = {
      kind: 'ignored',
      messageType: message.type,
      messageId: message.id,
      fromState: from,
      detail: { reason },
    };
    return unchanged(definition, instance, from, 'ignored', [record]);
  }
  const arrived = [...before, message.type];
  const waitingFor = composite.parts.map((p) => p.type).filter((type) => !arrived.includes(type));
  const own = ruleFor(definition, from, message.type);
  const part = own
    ? await runSteps(definition, own, startingData(definition, instance), message)
    : { data: structuredClone(instance.data), outgoing: [], scheduled: [], unscheduled: [] };
  const partHistory: SagaHistoryRecord[] = [
    {
      kind: 'event',
      messageType: message.type,
      messageId: message.id,
      fromState: from,
      toState: from,
      detail: {
        source: message.source,
        data: redacted(definition, message.data),
        composite: composite.name,
        waitingFor,
      },
    },
    ...outgoingRecords(definition, part.outgoing),
  ];
  if (waitingFor.length > 0) {
    return {
      decision: 'applied',
      from,
      to: from,
      write: 'update',
      data: part.data,
      arrived,
      outgoing: part.outgoing,
      history: partHistory,
      schedule: deadlinesFor(definition, part.scheduled, message, from, from),
      unschedule: part.unscheduled,
    };
  }
  const completed = completedMessage(composite, message, arrived);
  const rule = ruleFor(definition, from, composite.completed.type)!;
  const ran = await runSteps(definition, rule, part.data, completed);
  const to = targetOf(rule, ran.data);
  const outgoing = [...part.outgoing, ...ran.outgoing];
  return {
    decision: 'applied',
    from,
    to,
    write: 'update',
    data: ran.data,
    arrived: [],
    outgoing,
    history: [
      ...partHistory,
      ...eventRecords(definition, rule, completed, ran.outgoing, to),
      ...transitionRecords(rule, completed, to),
    ],
    schedule: deadlinesFor(definition, [...part.scheduled, ...ran.scheduled], completed, from, to),
    unschedule: [...part.unscheduled, ...ran.unscheduled],
  };
}

/** The composite's event, raised by the part that completed it: that message's id, subject and headers. */
function completedMessage(
  composite: SagaComposite,
  last: IncomingMessage,
  arrived: readonly string[],
): IncomingMessage<CompositeData> {
  const data: CompositeData = { parts: [...arrived] };
  return { ...last, type: composite.completed.type, data };
}

/** A step that changes nothing but, perhaps, the history. */
function unchanged<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D> | undefined,
  from: string,
  decision: SagaDecision,
  history: readonly SagaHistoryRecord[],
): SagaStep<D> {
  const data = instance?.data ?? definition.initialData();
  const arrived = instance?.arrived ?? [];
  return {
    decision,
    from,
    to: from,
    write: 'none',
    data,
    arrived,
    outgoing: [],
    history,
    schedule: [],
    unschedule: [],
  };
}

/** No row, or a row that ignores the event: recorded as ignored, or as unexpected (with its data) for a look. */
function notApplied<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D> | undefined,
  message: IncomingMessage,
  from: string,
  rule: SagaRule<D> | undefined,
): SagaStep<D> {
  const decision = rule || definition.unexpectedPolicy(from) === 'ignore' ? 'ignored' : 'unexpected';
  const reason = rule ? `ignored in ${from}` : `no row for it in ${from}`;
  const eventRecord = { messageType: message.type, messageId: message.id, fromState: from };
  const record: SagaHistoryRecord =
    decision === 'ignored'
      ? { kind: 'ignored', ...eventRecord, detail: { reason } }
      : {
          kind: 'unexpected',
          ...eventRecord,
          detail: { reason, source: message.source, data: redacted(definition, message.data) },
        };
  return unchanged(definition, instance, from, decision, [record]);
}

interface StepsRun<D> {
  readonly data: D;
  readonly outgoing: readonly OutgoingSagaMessage[];
  readonly scheduled: readonly SagaDeadline[];
  readonly unscheduled: readonly SagaDeadline[];
}

/** A copy of the instance's data for a row's activities to change, or a new instance's initial data. */
function startingData<D>(definition: SagaDefinition<D>, instance: SagaInstance<D> | undefined): D {
  return instance ? structuredClone(instance.data) : definition.initialData();
}

/** Runs the row's steps in the order written, on `data` (a copy); messages are only stated, not sent. */
async function runSteps<D>(
  definition: SagaDefinition<D>,
  rule: SagaRule<D>,
  data: D,
  message: IncomingMessage,
): Promise<StepsRun<D>> {
  const outgoing: OutgoingSagaMessage[] = [];
  const context: SagaContext<D> = {
    sagaType: definition.type,
    correlationId: definition.correlationIdOf(message),
    state: rule.from,
    data,
    message,
    send(out) {
      checkVerb(out, 'send');
      outgoing.push({ how: 'send', message: out });
    },
    publish(out) {
      checkVerb(out, 'publish');
      outgoing.push({ how: 'publish', message: out });
    },
  };
  const scheduled: SagaDeadline[] = [];
  const unscheduled: SagaDeadline[] = [];
  for (const step of rule.behavior.steps) {
    if (step.kind === 'then') await step.run(context);
    else if (step.kind === 'send') context.send(step.build(context.data, message));
    else if (step.kind === 'publish') context.publish(step.build(context.data, message));
    else if (step.kind === 'schedule') scheduled.push(step.deadline);
    else unscheduled.push(step.deadline);
  }
  return { data: context.data, outgoing, scheduled, unscheduled };
}

/**
 * The deadlines to set: those the row scheduled, and the state's own deadline — set on entering the state, set again
 * by a retry (the deadline's or an operator's) that stays.
 */
function deadlinesFor<D>(
  definition: SagaDefinition<D>,
  scheduled: readonly SagaDeadline[],
  message: IncomingMessage,
  from: string,
  to: string,
): DeadlineRequest[] {
  // A deadline's retry that stays where it is counts on; anywhere else, and after an operator's retry, it starts over.
  const attemptOf = (deadline: SagaDeadline) =>
    message.type === deadline.retry.type && to === from ? (message.data as DeadlineData).attempt + 1 : 1;
  const requests: DeadlineRequest[] = scheduled.map((deadline) => ({ deadline, attempt: attemptOf(deadline) }));
  const own = definition.stateDeadlines.get(to);
  if (own && !requests.some((r) => r.deadline === own)) {
    if (to !== from || message.type === own.retry.type || message.type === OperatorRetry.type) {
      requests.push({ deadline: own, attempt: attemptOf(own) });
    }
  }
  return requests;
}

/** The event, and each message it caused. */
function eventRecords<D>(
  definition: SagaDefinition<D>,
  rule: SagaRule<D>,
  message: IncomingMessage,
  outgoing: readonly OutgoingSagaMessage[],
  to: string,
): SagaHistoryRecord[] {
  return [
    {
      kind: 'event',
      messageType: message.type,
      messageId: message.id,
      fromState: rule.from,
      toState: to,
      detail: { source: message.source, data: redacted(definition, message.data) },
    },
    ...outgoingRecords(definition, outgoing),
  ];
}

function outgoingRecords<D>(
  definition: SagaDefinition<D>,
  outgoing: readonly OutgoingSagaMessage[],
): SagaHistoryRecord[] {
  return outgoing.map(({ how, message: out }) => ({
    kind: how === 'send' ? 'command' : 'published',
    messageType: out.messageType.type,
    detail: { subject: out.subject, data: redacted(definition, out.data) },
  }));
}

/** The transition, if the state changed. */
function transitionRecords<D>(rule: SagaRule<D>, message: IncomingMessage, to: string): SagaHistoryRecord[] {
  if (to === rule.from) return [];
  return [
    {
      kind: 'transition',
      messageType: message.type,
      messageId: message.id,
      fromState: rule.from,
      toState: to,
      detail: { rule: rule.source, ...(to === FINAL && { completed: true }) },
    },
  ];
}

/** Where the row leads: its one target, or for a choice the state chosen from the data (one of those it names). */
function targetOf<D>(rule: SagaRule<D>, data: D): string {
  const { outcome } = rule.behavior;
  if (outcome.kind !== 'choice') return rule.to;
  const chosen = outcome.choose(data);
  if (!outcome.to.includes(chosen)) {
    throw new Error(`${rule.event} in ${rule.from} chose "${chosen}", which is not one of ${outcome.to.join(', ')}`);
  }
  return chosen;
}

/** The data with the definition's credential fields replaced (see `SagaSpec.redact`). */
function redacted<D>(definition: SagaDefinition<D>, data: unknown): unknown {
  if (definition.redacted.size === 0 || !data || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(
    Object.entries(data as Record<string, unknown>).map(([key, value]) => [
      key,
      definition.redacted.has(key) ? '[redacted]' : value,
    ]),
  );
}
