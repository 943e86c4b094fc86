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
import { FINAL, INITIAL, ruleFor, type SagaDefinition, type SagaRule } from '../definition/saga-definition.js';
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
  const rule = ruleFor(definition, from, message.type);
  if (!instance && !rule) {
    const policy = definition.missingInstancePolicy(message.type);
    if (policy === 'park') throw new SagaInstanceMissing(definition.type, definition.correlationIdOf(message), message);
    if (policy === 'discard') return unchanged(definition, instance, from, 'ignored', []);
  }
  if (!rule || rule.behavior.outcome.kind === 'ignore') return notApplied(definition, instance, message, from, rule);

  const ran = await runSteps(definition, rule, instance, message);
  const to = targetOf(rule, ran.data);
  return {
    decision: 'applied',
    from,
    to,
    write: instance ? 'update' : 'create',
    data: ran.data,
    outgoing: ran.outgoing,
    history: historyOf(definition, rule, message, ran.outgoing, to),
    schedule: deadlinesFor(definition, ran.scheduled, message, from, to),
    unschedule: ran.unscheduled,
  };
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
  return { decision, from, to: from, write: 'none', data, outgoing: [], history, schedule: [], unschedule: [] };
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

/** Runs the row's steps in the order written, on a copy of the data; messages are only stated, not sent. */
async function runSteps<D>(
  definition: SagaDefinition<D>,
  rule: SagaRule<D>,
  instance: SagaInstance<D> | undefined,
  message: IncomingMessage,
): Promise<StepsRun<D>> {
  const outgoing: OutgoingSagaMessage[] = [];
  const context: SagaContext<D> = {
    sagaType: definition.type,
    correlationId: definition.correlationIdOf(message),
    state: rule.from,
    data: instance ? structuredClone(instance.data) : definition.initialData(),
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

/** The event, each message it caused, and the transition if the state changed. */
function historyOf<D>(
  definition: SagaDefinition<D>,
  rule: SagaRule<D>,
  message: IncomingMessage,
  outgoing: readonly OutgoingSagaMessage[],
  to: string,
): SagaHistoryRecord[] {
  const from = rule.from;
  const history: SagaHistoryRecord[] = [
    {
      kind: 'event',
      messageType: message.type,
      messageId: message.id,
      fromState: from,
      toState: to,
      detail: { source: message.source, data: redacted(definition, message.data) },
    },
    ...outgoing.map(({ how, message: out }): SagaHistoryRecord => ({
      kind: how === 'send' ? 'command' : 'published',
      messageType: out.messageType.type,
      detail: { subject: out.subject, data: redacted(definition, out.data) },
    })),
  ];
  if (to !== from) {
    history.push({
      kind: 'transition',
      messageType: message.type,
      messageId: message.id,
      fromState: from,
      toState: to,
      detail: { rule: rule.source, ...(to === FINAL && { completed: true }) },
    });
  }
  return history;
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
