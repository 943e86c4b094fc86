// For a service's unit tests of its own saga definition: the table run on plain values, no database and no broker.
// The engine (saga-engine.ts) does the same for real, in the consumer's unit of work; this runs only the decisions.
import type { IncomingMessage } from '@orderflow/messaging';
import type { SagaDefinition } from './definition/saga-definition.js';
import { applyEvent, type OutgoingSagaMessage, type SagaInstance, type SagaStep } from './engine/apply-event.js';

export interface SagaRun<D> {
  /** The instance after the last message; undefined if none created it. */
  readonly instance: SagaInstance<D> | undefined;
  /** Every step, in the order the messages were applied. */
  readonly steps: readonly SagaStep<D>[];
  /** Every message the saga sent or published, in order. */
  readonly outgoing: readonly OutgoingSagaMessage[];
}

/** Applies `messages` one after the other to one instance, as one consumer would, and keeps what each step did. */
export async function runSaga<D>(
  definition: SagaDefinition<D>,
  messages: readonly IncomingMessage[],
  from?: SagaInstance<D>,
): Promise<SagaRun<D>> {
  let instance = from;
  const steps: SagaStep<D>[] = [];
  for (const message of messages) {
    const step = await applyEvent(definition, instance, message);
    steps.push(step);
    if (step.write !== 'none') {
      instance = { state: step.to, data: step.data, version: (instance?.version ?? 0) + 1, arrived: step.arrived };
    }
  }
  return { instance, steps, outgoing: steps.flatMap((s) => s.outgoing) };
}
