import { parseDuration } from '@orderflow/scheduling';
import { z } from 'zod';
import { orderSaga } from './order-saga.js';

/**
 * `SAGA_DEADLINES`: delays that replace the order saga's defaults, e.g. `payment=2m,compensation=30s` (names as in
 * docs/saga.md). An unknown name or a malformed duration stops start-up.
 */
export const deadlinesConfigShape = {
  SAGA_DEADLINES: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const delays = new Map<string, number>();
      for (const item of value.split(',').filter((s) => s.trim() !== '')) {
        const [name, duration] = item.split('=').map((s) => s.trim());
        if (!orderSaga.deadlines.has(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${name}" is not a deadline of the order saga (${[...orderSaga.deadlines.keys()].join(', ')})`,
          });
          return z.NEVER;
        }
        try {
          const ms = parseDuration(duration ?? '');
          if (ms <= 0) throw new Error(`the ${name} deadline must be longer than 0`);
          delays.set(name, ms);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }
      return delays;
    }),
};
