/**
 * Runs a saga definition inside the messaging core's unit of work: load the instance the event is about (the
 * definition's correlation, by default the CloudEvents subject), decide, then save the instance, state the outgoing messages and append the
 * history, all through `uow.manager`. The engine never opens, commits or rolls back a transaction.
 *
 * Guarantee: the instance's new version, its history, the commands and events it sends (outbox rows) and the
 * inbox record of the message that caused them commit together or not at all, because the consumer commits them
 * in one transaction. A crash anywhere before that commit redelivers the message to an instance that never saw
 * it; a redelivery after the commit is a duplicate the inbox absorbs. Two replicas deciding on the same version
 * cannot both commit: the loser's `SagaConcurrencyConflict` (a TransientError) sends its message down the
 * consumer's retry path, which decides again on the winner's version.
 *
 * The observer hears of a transition once it is written in the transaction, not once it commits (the engine does not
 * see the commit): a conflict throws before it is told, but a commit that fails afterwards leaves a transition
 * counted that a retry will count again. Metrics may over-count by those rare failures; the history never does.
 */
import { type IncomingMessage, PermanentError, type UnitOfWork } from '@orderflow/messaging';
import { isUuid } from '@orderflow/platform';
import type { Clock, JobStore } from '@orderflow/scheduling';
import { randomUUID } from 'node:crypto';
import type { DeadlineData } from '../definition/deadline.js';
import { OPERATOR_ACTIONS, type OperatorAction, type OperatorActionData } from '../definition/operator-actions.js';
import { FINAL, INITIAL, ruleFor, type SagaDefinition } from '../definition/saga-definition.js';
import { type SagaHistoryRecord, SagaStore } from '../store/saga-store.js';
import { applyEvent, type SagaDecision, type SagaStep } from './apply-event.js';

/** The scheduler topic of saga deadlines; a job's group is its instance, its key the instance and the deadline. */
export const SAGA_DEADLINE_TOPIC = 'saga.deadline';

/** What a deadline job carries: whose deadline, which firing, and the state it was scheduled for. */
export interface DeadlinePayload {
  readonly sagaType: string;
  readonly correlationId: string;
  readonly deadline: string;
  readonly attempt: number;
  readonly state: string;
}

/** Where the engine schedules deadlines, by which clock, and any delays configured instead of the definition's. */
export interface DeadlineScheduling {
  readonly jobs: JobStore;
  readonly clock: Clock;
  readonly delays?: ReadonlyMap<string, number>;
}

/** What handling one message did, for logs and tests. */
export interface SagaOutcome {
  readonly decision: SagaDecision;
  readonly correlationId: string;
  readonly from: string;
  readonly to: string;
  /** The instance's version after the message; 0 if there is still no instance. */
  readonly version: number;
}

/** A change of state the engine wrote: what saga metrics count. */
export interface SagaTransition {
  readonly saga: string;
  /** The message type that caused it. */
  readonly event: string;
  readonly from: string;
  readonly to: string;
  /** The saga enters one of its compensating states from one that is not: it starts undoing its work. */
  readonly startsCompensation: boolean;
  /** Seconds the instance spent in `from`, by the database clock; undefined when `from` is Initial or unknown. */
  readonly secondsInFrom?: number;
}

/** The instance does not exist, or its state offers no such action. */
export class SagaActionNotAllowed extends Error {}

/**
 * The instance moved on from the version the operator acted on (a batch built from a list): the action is not applied
 * to a saga the operator did not see.
 */
export class SagaChangedSinceSeen extends SagaActionNotAllowed {
  constructor(
    readonly currentState: string,
    readonly currentVersion: number,
    readonly seenVersion: number,
  ) {
    super(`the saga changed since version ${seenVersion}: it is now ${currentState}, version ${currentVersion}`);
  }
}

export interface SagaObserver {
  transitioned(transition: SagaTransition): void;
  /** A deadline fired in the state it was set for: `retry` or `expired`. */
  deadlineFired?(saga: string, deadline: string, outcome: 'retry' | 'expired'): void;
}

export class SagaEngine<D> {
  private readonly compensating: ReadonlySet<string>;

  constructor(
    readonly definition: SagaDefinition<D>,
    private readonly observer?: SagaObserver,
    private readonly scheduling?: DeadlineScheduling,
  ) {
    this.compensating = new Set(definition.compensating);
    if (definition.deadlines.size > 0 && !scheduling)
      throw new Error(`saga "${definition.type}" schedules deadlines: its engine needs a scheduler`);
  }

  /**
   * Applies an operator's action to an instance, in the caller's unit of work, if its state has a row for it; the
   * history records who and why. Throws SagaActionNotAllowed otherwise, and SagaChangedSinceSeen when `seenVersion`
   * is given and the instance is no longer at it (a concurrent change after this check fails the update instead, as
   * SagaConcurrencyConflict: the write matches the loaded version only).
   */
  async operatorAction(
    correlationId: string,
    action: OperatorAction,
    data: OperatorActionData,
    uow: UnitOfWork,
    seenVersion?: number,
  ): Promise<SagaOutcome> {
    const { type } = this.definition;
    const store = new SagaStore(uow.manager);
    const instance = await store.load<D>(type, correlationId);
    if (!instance) throw new SagaActionNotAllowed(`no ${type} saga ${correlationId}`);
    if (seenVersion !== undefined && instance.version !== seenVersion) {
      throw new SagaChangedSinceSeen(instance.state, instance.version, seenVersion);
    }
    const event = OPERATOR_ACTIONS[action];
    const rule = ruleFor(this.definition, instance.state, event.type);
    if (!rule || rule.behavior.outcome.kind === 'ignore') {
      const where = instance.state === FINAL ? 'a finished saga' : `state ${instance.state}`;
      throw new SagaActionNotAllowed(`${action} is not possible in ${where}`);
    }
    const messageId = randomUUID();
    await store.appendHistory(type, correlationId, [
      { kind: 'operator', messageType: event.type, messageId, fromState: instance.state, detail: { action, ...data } },
    ]);
    return this.handle(
      {
        id: messageId,
        type: event.type,
        subject: correlationId,
        data,
        source: 'orderflow/operator',
        time: new Date().toISOString(),
        correlationId,
        attempt: 1,
        lastAttempt: false,
        queue: 'operator',
      },
      uow,
    );
  }

  /**
   * Fires a due deadline into its instance, in the caller's unit of work (the one that settles the job). A deadline
   * for a state the instance has left is recorded and does nothing: leaving a state cancels its deadlines, so this
   * only happens when the two raced.
   */
  async fireDeadline(
    payload: DeadlinePayload,
    jobId: string,
    dueAt: Date,
    uow: UnitOfWork,
  ): Promise<SagaOutcome | undefined> {
    const { type } = this.definition;
    const store = new SagaStore(uow.manager);
    const deadline = this.definition.deadlines.get(payload.deadline);
    const instance = await store.load<D>(type, payload.correlationId);
    if (!deadline || !instance || instance.state !== payload.state) {
      await store.appendHistory(type, payload.correlationId, [
        {
          kind: 'deadline',
          messageType: deadline?.expired.type ?? `deadline.${payload.deadline}`,
          fromState: instance?.state ?? INITIAL,
          detail: { action: 'stale', deadline: payload.deadline, scheduledFor: payload.state },
        },
      ]);
      return undefined;
    }
    const outcome = payload.attempt <= deadline.retries ? 'retry' : 'expired';
    const data: DeadlineData = { deadline: deadline.name, attempt: payload.attempt };
    const message: IncomingMessage = {
      id: jobId,
      type: (outcome === 'retry' ? deadline.retry : deadline.expired).type,
      subject: payload.correlationId,
      data,
      source: 'orderflow/scheduler',
      time: dueAt.toISOString(),
      correlationId: payload.correlationId,
      attempt: 1,
      lastAttempt: false,
      queue: SAGA_DEADLINE_TOPIC,
    };
    this.observer?.deadlineFired?.(type, deadline.name, outcome);
    return this.handle(message, uow);
  }

  /** Applies one message to its saga instance, in the caller's unit of work. */
  async handle(message: IncomingMessage, uow: UnitOfWork): Promise<SagaOutcome> {
    const { type } = this.definition;
    const correlationId = this.definition.correlationIdOf(message);
    // Instances are keyed by UUID, and retrying cannot make one of another id: dead-letter it at once.
    if (!isUuid(correlationId)) {
      throw new PermanentError(
        `${message.type} ${message.id} correlates to "${correlationId}", not a UUID: no ${type} saga can be keyed by it`,
      );
    }
    const store = new SagaStore(uow.manager);
    const instance = await store.load<D>(type, correlationId);
    const step = await applyEvent(this.definition, instance, message);

    for (const { how, message: out } of step.outgoing) {
      if (how === 'send') uow.send(out);
      else uow.publish(out);
    }
    const transitions = step.to !== step.from;
    const secondsInFrom = transitions && step.from !== INITIAL ? instance?.secondsInState : undefined;
    // Deadlines first (one statement), so that what they cancelled goes into the history written with the instance.
    const deadlines = step.write === 'none' ? [] : await this.applyDeadlines(uow, correlationId, step);
    const history = [...step.history, ...deadlines];
    let version = instance?.version ?? 0;
    if (step.write === 'create') version = await store.create(type, correlationId, step.to, step.data, history);
    else if (step.write === 'update' && instance) {
      version = await store.update(type, correlationId, instance.version, step.to, step.data, history, step.arrived);
    } else await store.appendHistory(type, correlationId, history);
    if (transitions) {
      this.observer?.transitioned({
        saga: type,
        event: message.type,
        from: step.from,
        to: step.to,
        startsCompensation: this.compensating.has(step.to) && !this.compensating.has(step.from),
        ...(secondsInFrom !== undefined && { secondsInFrom }),
      });
    }
    return { decision: step.decision, correlationId, from: step.from, to: step.to, version };
  }

  /**
   * Leaving a state cancels its deadlines; then the row's own unschedules and schedules apply: one statement, whose
   * history records are returned.
   */
  private async applyDeadlines(
    uow: UnitOfWork,
    correlationId: string,
    step: SagaStep<D>,
  ): Promise<SagaHistoryRecord[]> {
    if (!this.scheduling) return [];
    const { jobs, clock, delays } = this.scheduling;
    const { type } = this.definition;
    const group = `${type}:${correlationId}`;
    const scheduled = step.schedule.map(({ deadline, attempt }) => {
      const delayMs = delays?.get(deadline.name) ?? deadline.delayMs;
      const dueAt = new Date(clock.now().getTime() + delayMs);
      const payload: DeadlinePayload = {
        sagaType: type,
        correlationId,
        deadline: deadline.name,
        attempt,
        state: step.to,
      };
      return { deadline, attempt, dueAt, job: { key: `${group}:${deadline.name}`, group, dueAt, payload } };
    });
    const cancelledKeys = await jobs.replace(uow.manager, {
      topic: SAGA_DEADLINE_TOPIC,
      ...(step.to !== step.from && { cancelGroup: group }),
      cancel: step.unschedule.map((deadline) => `${group}:${deadline.name}`),
      schedule: scheduled.map((s) => s.job),
    });
    const history: SagaHistoryRecord[] = cancelledKeys.map((key) => {
      const name = key.slice(group.length + 1);
      return {
        kind: 'deadline',
        messageType: this.definition.deadlines.get(name)?.expired.type ?? `deadline.${name}`,
        fromState: step.from,
        detail: { action: 'cancelled', deadline: name },
      };
    });
    for (const { deadline, attempt, dueAt } of scheduled) {
      history.push({
        kind: 'deadline',
        messageType: (attempt <= deadline.retries ? deadline.retry : deadline.expired).type,
        toState: step.to,
        detail: { action: 'scheduled', deadline: deadline.name, dueAt: dueAt.toISOString(), attempt },
      });
    }
    return history;
  }
}
