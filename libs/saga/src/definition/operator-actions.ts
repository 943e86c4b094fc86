/**
 * What an operator can do to one saga instance, as events of its table: retry the step it waits on, force it to
 * compensate, or resolve it (a parked instance an operator has dealt with). A state offers an action only if it has
 * a row for it; each action carries who took it and why, and is recorded in the instance's history.
 */
import { defineEvent } from '@orderflow/contracts';
import { z } from 'zod';
import { markLocal } from './local-events.js';

const actionData = z.object({
  /** The operator's subject (a token fingerprint or an OIDC subject). */
  operator: z.string().min(1),
  note: z.string().min(1).max(2000),
});
export type OperatorActionData = z.infer<typeof actionData>;

export const OperatorRetry = defineEvent(
  'operator.retry.v1',
  actionData,
  'An operator asked to retry the current step',
);
export const OperatorCompensate = defineEvent(
  'operator.compensate.v1',
  actionData,
  'An operator asked the saga to undo what it did and cancel',
);
export const OperatorResolve = defineEvent(
  'operator.resolve.v1',
  actionData,
  'An operator resolved a parked saga by hand',
);

export const OPERATOR_ACTIONS = { retry: OperatorRetry, compensate: OperatorCompensate, resolve: OperatorResolve };
export type OperatorAction = keyof typeof OPERATOR_ACTIONS;

for (const action of Object.values(OPERATOR_ACTIONS)) markLocal(action.type);
