/**
 * Runs a saga definition inside the messaging core's unit of work: load the instance the event is about (its
 * CloudEvents subject is the order id), decide, then save the instance, state the outgoing messages and append the
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
import { INITIAL, type SagaDefinition } from '../definition/saga-definition.js';
import { SagaStore } from '../store/saga-store.js';
import { applyEvent, type SagaDecision } from './apply-event.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

export interface SagaObserver {
  transitioned(transition: SagaTransition): void;
}

export class SagaEngine<D> {
  private readonly compensating: ReadonlySet<string>;

  constructor(
    readonly definition: SagaDefinition<D>,
    private readonly observer?: SagaObserver,
  ) {
    this.compensating = new Set(definition.compensating);
  }

  /** Applies one message to its saga instance, in the caller's unit of work. */
  async handle(message: IncomingMessage, uow: UnitOfWork): Promise<SagaOutcome> {
    const { type } = this.definition;
    const correlationId = message.subject;
    // Retrying cannot make a subject an order id: dead-letter it at once.
    if (!UUID.test(correlationId)) {
      throw new PermanentError(`${message.type} ${message.id} has subject "${correlationId}", not an order id`);
    }
    const store = new SagaStore(uow.manager);
    const instance = await store.load<D>(type, correlationId);
    const step = await applyEvent(this.definition, instance, message);

    for (const { how, message: out } of step.outgoing) {
      if (how === 'send') uow.send(out);
      else uow.publish(out);
    }
    const transitions = step.to !== step.from;
    const secondsInFrom =
      this.observer && transitions && step.from !== INITIAL
        ? await store.secondsInState(type, correlationId)
        : undefined;
    let version = instance?.version ?? 0;
    if (step.write === 'create') version = await store.create(type, correlationId, step.to, step.data);
    else if (step.write === 'update' && instance) {
      version = await store.update(type, correlationId, instance.version, step.to, step.data);
    }
    await store.appendHistory(type, correlationId, step.history);
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
}
