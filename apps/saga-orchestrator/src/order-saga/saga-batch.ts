/**
 * An operator's action on many sagas at once: each saga on its own, in its own unit of work, so that one that fails
 * neither stops the others nor undoes them, and each one's outcome is reported — done, skipped because it is no
 * longer as the operator saw it, or failed.
 */
import { SagaActionNotAllowed, SagaChangedSinceSeen, SagaConcurrencyConflict } from '@orderflow/saga';

export const BATCH_ACTIONS = ['retry', 'resolve'] as const;
export type BatchAction = (typeof BATCH_ACTIONS)[number];
export const MAX_BATCH_SIZE = 100;

export type BatchOutcome = 'succeeded' | 'skipped' | 'failed';

export interface SeenSaga {
  readonly orderId: string;
  /** The version the operator saw: the action applies only if the saga is still at it. */
  readonly version: number;
}

export interface BatchItemResult {
  readonly orderId: string;
  readonly outcome: BatchOutcome;
  /** What the same action alone would have answered: 200, 404, 409 or 500. */
  readonly status: 200 | 404 | 409 | 500;
  /** The saga's state after the action (succeeded) or as found (skipped). */
  readonly state?: string;
  readonly detail?: string;
}

export interface BatchSteps {
  /** Applies the action to one saga in its own unit of work; its state afterwards. */
  act(saga: SeenSaga): Promise<string | undefined>;
  /** Whether there is a saga for this order at all. */
  exists(orderId: string): Promise<boolean>;
  /** An error nobody expected: logged by the caller with the order id, reported as failed without its message. */
  unexpected(orderId: string, err: unknown): void;
}

/** Runs the action on every saga in turn, whatever happens to the ones before it; one result per saga, in order. */
export async function runBatch(sagas: readonly SeenSaga[], steps: BatchSteps): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = [];
  for (const saga of sagas) results.push(await runOne(saga, steps));
  return results;
}

async function runOne(saga: SeenSaga, steps: BatchSteps): Promise<BatchItemResult> {
  const { orderId } = saga;
  try {
    const state = await steps.act(saga);
    return { orderId, outcome: 'succeeded', status: 200, ...(state !== undefined && { state }) };
  } catch (err) {
    if (err instanceof SagaChangedSinceSeen) {
      return { orderId, outcome: 'skipped', status: 409, state: err.currentState, detail: err.message };
    }
    if (err instanceof SagaConcurrencyConflict) {
      return { orderId, outcome: 'skipped', status: 409, detail: 'the saga changed while the action was applied' };
    }
    if (err instanceof SagaActionNotAllowed) {
      try {
        if (!(await steps.exists(orderId))) {
          return { orderId, outcome: 'failed', status: 404, detail: 'No saga for this order' };
        }
      } catch (lookupErr) {
        steps.unexpected(orderId, lookupErr);
        return unexpectedFailure(orderId);
      }
      return { orderId, outcome: 'skipped', status: 409, detail: err.message };
    }
    steps.unexpected(orderId, err);
    return unexpectedFailure(orderId);
  }
}

const unexpectedFailure = (orderId: string): BatchItemResult => ({
  orderId,
  outcome: 'failed',
  status: 500,
  detail: 'An unexpected error; the service log has it under this request’s correlation id',
});

/** How many of each outcome: the batch's answer leads with it. */
export function tally(results: readonly BatchItemResult[]): Record<BatchOutcome, number> {
  const counts: Record<BatchOutcome, number> = { succeeded: 0, skipped: 0, failed: 0 };
  for (const { outcome } of results) counts[outcome] += 1;
  return counts;
}
