import { SagaActionNotAllowed, SagaChangedSinceSeen, SagaConcurrencyConflict } from '@orderflow/saga';
import { describe, expect, it } from 'vitest';
import { type BatchSteps, runBatch, type SeenSaga, tally } from './saga-batch.js';

const saga = (n: number): SeenSaga => ({ orderId: `00000000-0000-4000-8000-00000000000${n}`, version: 3 });

/** Steps whose `act` does, per order id, what `plan` says: a state to end in, or an error to throw. */
function steps(plan: Record<string, string | Error>, existing = new Set(Object.keys(plan))) {
  const acted: string[] = [];
  const logged: string[] = [];
  const batchSteps: BatchSteps = {
    act: ({ orderId }) => {
      acted.push(orderId);
      const next = plan[orderId];
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    exists: (orderId) => Promise.resolve(existing.has(orderId)),
    unexpected: (orderId) => logged.push(orderId),
  };
  return { batchSteps, acted, logged };
}

describe('runBatch', () => {
  it('acts on every saga, reports each outcome in order, and does not stop at a failure', async () => {
    const [a, b, c, d, e] = [1, 2, 3, 4, 5].map(saga);
    const { batchSteps, acted, logged } = steps({
      [a.orderId]: 'Final',
      [b.orderId]: new Error('database went away'),
      [c.orderId]: new SagaChangedSinceSeen('AwaitingDelivery', 5, 3),
      [d.orderId]: new SagaActionNotAllowed('resolve is not possible in a finished saga'),
      [e.orderId]: 'Final',
    });
    const results = await runBatch([a, b, c, d, e], batchSteps);

    expect(acted).toEqual([a, b, c, d, e].map((s) => s.orderId));
    expect(results.map(({ orderId, outcome, status, state }) => ({ orderId, outcome, status, state }))).toEqual([
      { orderId: a.orderId, outcome: 'succeeded', status: 200, state: 'Final' },
      { orderId: b.orderId, outcome: 'failed', status: 500, state: undefined },
      { orderId: c.orderId, outcome: 'skipped', status: 409, state: 'AwaitingDelivery' },
      { orderId: d.orderId, outcome: 'skipped', status: 409, state: undefined },
      { orderId: e.orderId, outcome: 'succeeded', status: 200, state: 'Final' },
    ]);
    expect(results[1].detail).toContain('unexpected');
    expect(results[2].detail).toContain('changed since version 3');
    expect(results[3].detail).toBe('resolve is not possible in a finished saga');
    // The unexpected error is logged, and its message is not handed to the caller.
    expect(logged).toEqual([b.orderId]);
    expect(JSON.stringify(results)).not.toContain('database went away');
    expect(tally(results)).toEqual({ succeeded: 2, skipped: 2, failed: 1 });
  });

  it('fails an order with no saga (404), and skips one changed under the action (409)', async () => {
    const [a, b] = [1, 2].map(saga);
    const { batchSteps } = steps(
      {
        [a.orderId]: new SagaActionNotAllowed(`no saga for order ${a.orderId}`),
        [b.orderId]: new SagaConcurrencyConflict('order', b.orderId, 3),
      },
      new Set([b.orderId]),
    );
    const results = await runBatch([a, b], batchSteps);
    expect(results.map((r) => [r.outcome, r.status])).toEqual([
      ['failed', 404],
      ['skipped', 409],
    ]);
  });
});
