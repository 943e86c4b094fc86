/**
 * A composite event, as MassTransit's `CompositeEvent`: it fires once every one of a set of events has arrived while
 * the instance waits in one state, in any order. It is how a saga starts two steps at once and goes on when both have
 * answered: `when(paidAndReserved.completed)…` in the state that waits, beside rows for the failures that end the
 * wait early.
 *
 * Guarantee (with the engine): which parts have arrived is written on the instance row with the state, in the
 * transaction of the part that arrived, so it survives restarts and replicas share it; two parts handled at once on
 * two consumers decide on one version, one commits and the other is redone on top of it (the optimistic version
 * check, ADR 0006), so the composite row runs exactly once, in the transaction of whichever part arrived last. A part
 * that arrives twice counts once (the second is recorded as ignored). Leaving the state forgets what had arrived.
 *
 * The composite's own message never travels through the broker: the engine raises it itself, with the id, subject
 * and headers of the part that completed the set. Its parts are subscribed like any event the saga names.
 */
import { defineEvent, type MessageType } from '@orderflow/contracts';
import { z } from 'zod';
import { markLocal } from './local-events.js';

const compositeData = z.object({
  /** The parts' message types, in the order they arrived. */
  parts: z.array(z.string()),
});
export type CompositeData = z.infer<typeof compositeData>;

export interface SagaComposite {
  readonly name: string;
  /** Every one of these must have arrived, in any order. */
  readonly parts: readonly MessageType[];
  /** Raised by the engine once the last part has arrived, in the state whose row names it. */
  readonly completed: MessageType<typeof compositeData>;
}

/**
 * `composite('paid-and-reserved', [PaymentAuthorized, StockReserved])` → a composite whose `completed` event is
 * `composite.paid-and-reserved-completed.v1`.
 */
export function composite(name: string, parts: readonly MessageType[]): SagaComposite {
  if (!/^[a-z][a-z-]*$/.test(name)) throw new Error(`the composite name "${name}" is not lower-case-kebab`);
  if (parts.length < 2) throw new Error(`composite ${name}: a composite needs two parts or more`);
  const types = parts.map((p) => p.type);
  if (new Set(types).size !== types.length) throw new Error(`composite ${name}: a part is named twice`);
  const completed = defineEvent(
    `composite.${name}-completed.v1`,
    compositeData,
    `Every part of ${name} has arrived: ${types.join(', ')}`,
  );
  markLocal(completed.type);
  const defined: SagaComposite = Object.freeze({ name, parts: Object.freeze([...parts]), completed });
  composites.set(completed.type, defined);
  return defined;
}

const composites = new Map<string, SagaComposite>();

/** The composite whose `completed` event this is, if it is one: how a definition finds the composites its rows name. */
export function compositeOf(type: string): SagaComposite | undefined {
  return composites.get(type);
}
