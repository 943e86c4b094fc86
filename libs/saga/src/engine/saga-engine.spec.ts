import { OrderPlaced, StockReserved } from '@orderflow/contracts';
import { PermanentError, type UnitOfWork } from '@orderflow/messaging';
import { describe, expect, it } from 'vitest';
import { defineSaga } from '../definition/saga-definition.js';
import { SagaEngine } from './saga-engine.js';

describe('SagaEngine', () => {
  it('dead-letters a message whose subject is not an order id, before it touches the database', async () => {
    const engine = new SagaEngine(
      defineSaga('subjects', ({ when }) => ({
        states: ['Open'],
        initially: [when(OrderPlaced).transitionTo('Open')],
        during: { Open: [when(StockReserved).finalize()] },
      })),
    );
    const noDatabase = {
      get manager(): never {
        throw new Error('the database was used');
      },
    } as unknown as UnitOfWork;
    const message = {
      id: '01a2075c-734f-7097-9b6d-7342d95826b0',
      type: StockReserved.type,
      subject: 'order-42',
      data: { orderId: 'order-42' },
      source: '/orderflow/warehouse',
      time: new Date().toISOString(),
      correlationId: 'c',
      attempt: 1,
      lastAttempt: false,
      queue: 'saga.events',
    };
    const failure = await engine.handle(message, noDatabase).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PermanentError);
    expect((failure as Error).message).toBe(
      'warehouse.stock-reserved.v1 01a2075c-734f-7097-9b6d-7342d95826b0 has subject "order-42", not an order id',
    );
  });
});
