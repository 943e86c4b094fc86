/**
 * What a saga does when one event arrives in one state: its steps (activities, commands sent, events published)
 * in the order they are written, then where the instance goes. Behaviours are immutable values, built by
 * `when(Event)…` and `ignore(Event)` and read by the engine, the validator and the diagram generator alike, so the
 * diagram is drawn from exactly what runs.
 *
 * Guarantee: a behaviour never touches the database or the channel itself. Its steps only state data changes and
 * outgoing messages; the engine applies them inside the caller's unit of work, so they commit with the instance and
 * the inbox record or not at all.
 */
import type { DataOf, MessageType } from '@orderflow/contracts';
import type { SagaDeadline } from './deadline.js';
import type { SagaRequest } from './request.js';
import type { Activity, MessageFactory } from './saga-context.js';

/** One step of a behaviour. The name (the function's own name) is for people: history, diagrams, error messages. */
export type BehaviorStep<D> =
  | { readonly kind: 'then'; readonly name: string; readonly run: Activity<D> }
  | { readonly kind: 'send'; readonly name: string; readonly build: MessageFactory<D> }
  | { readonly kind: 'publish'; readonly name: string; readonly build: MessageFactory<D> }
  | { readonly kind: 'schedule'; readonly name: string; readonly deadline: SagaDeadline }
  | { readonly kind: 'unschedule'; readonly name: string; readonly deadline: SagaDeadline };

/**
 * Where the instance goes once the steps ran. `stay` keeps the state (the data may still change); `ignore` means
 * the event is expected here and has no effect at all, not even on the version.
 */
export type BehaviorOutcome =
  | { readonly kind: 'transition'; readonly to: string }
  /** One of `to`, chosen from the instance's data once the steps ran. */
  | { readonly kind: 'choice'; readonly to: readonly string[]; readonly choose: (data: unknown) => string }
  | { readonly kind: 'finalize' }
  | { readonly kind: 'stay' }
  | { readonly kind: 'ignore' };

export interface BehaviorSpec<D> {
  readonly event: MessageType;
  readonly steps: readonly BehaviorStep<D>[];
  readonly outcome: BehaviorOutcome;
}

/** Anything that can stand in a saga's `initially`, `during` or `duringAny` list. */
export interface Behavior<D> {
  readonly spec: BehaviorSpec<D>;
}

const nameOf = (fn: { name: string }, kind: string) => fn.name || `anonymous ${kind}`;

/**
 * `when(Event)` and the chain after it. Each call returns a new builder, so a shared prefix can be reused without
 * one use changing another. `transitionTo` and `finalize` end the chain: the target is the last word of the row.
 */
export class WhenBehavior<D, S extends string, E> implements Behavior<D> {
  constructor(readonly spec: BehaviorSpec<D>) {}

  /** Runs an activity: a plain function that reads the event and changes the instance's data. */
  then(activity: Activity<D, E>): WhenBehavior<D, S, E> {
    return this.with({ kind: 'then', name: nameOf(activity, 'activity'), run: activity as Activity<D> });
  }

  /** Sends the command that `build` makes; it leaves through the outbox when the unit of work commits. */
  send(build: MessageFactory<D, E>): WhenBehavior<D, S, E> {
    return this.with({ kind: 'send', name: nameOf(build, 'command'), build: build as MessageFactory<D> });
  }

  /** Publishes the event that `build` makes; it leaves through the outbox when the unit of work commits. */
  publish(build: MessageFactory<D, E>): WhenBehavior<D, S, E> {
    return this.with({ kind: 'publish', name: nameOf(build, 'event'), build: build as MessageFactory<D> });
  }

  /**
   * Schedules the deadline for the state the row leads to. Leaving a state cancels every deadline scheduled for it,
   * so a row that moves on need not unschedule anything.
   */
  schedule(deadline: SagaDeadline): WhenBehavior<D, S, E> {
    return this.with({ kind: 'schedule', name: deadline.name, deadline });
  }

  /** Sends the request's command and starts its timeout (see request.ts). */
  request(request: SagaRequest<D, MessageType, MessageType>): WhenBehavior<D, S, E> {
    return this.send(request.send).schedule(request.deadline);
  }

  /** Cancels the deadline while staying in the state (a row that leaves the state cancels it anyway). */
  unschedule(deadline: SagaDeadline): WhenBehavior<D, S, E> {
    return this.with({ kind: 'unschedule', name: deadline.name, deadline });
  }

  transitionTo(state: S): Behavior<D> {
    return { spec: { ...this.spec, outcome: { kind: 'transition', to: state } } };
  }

  /**
   * Moves to one of `states`, chosen from the data once the steps ran — e.g. back to the state a parked saga stopped
   * in. Every possible target is named here, so the table and its diagram still show every way out of the state.
   */
  transitionToOneOf<T extends S>(states: readonly T[], choose: (data: D) => T): Behavior<D> {
    return {
      spec: { ...this.spec, outcome: { kind: 'choice', to: states, choose: choose as (data: unknown) => string } },
    };
  }

  /** Moves the instance to `Final` and marks it completed; it is kept, and later events are unexpected there. */
  finalize(): Behavior<D> {
    return { spec: { ...this.spec, outcome: { kind: 'finalize' } } };
  }

  private with(step: BehaviorStep<D>): WhenBehavior<D, S, E> {
    return new WhenBehavior({ ...this.spec, steps: [...this.spec.steps, step] });
  }
}

/** The DSL a saga definition is written in, typed by the saga's data `D` and state names `S`. */
export interface SagaDsl<D, S extends string> {
  readonly when: <M extends MessageType>(event: M) => WhenBehavior<D, S, DataOf<M>>;
  /** The event is expected in this state and means nothing here (a duplicate, a late answer): no effect. */
  readonly ignore: (event: MessageType) => Behavior<D>;
}

export function sagaDsl<D, S extends string>(): SagaDsl<D, S> {
  return {
    when: (event) => new WhenBehavior({ event, steps: [], outcome: { kind: 'stay' } }),
    ignore: (event) => ({ spec: { event, steps: [], outcome: { kind: 'ignore' } } }),
  };
}
