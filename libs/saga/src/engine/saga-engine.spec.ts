import { OrderPlaced, PaymentAuthorized, StockReserved, StockUnavailable } from '@orderflow/contracts';
import { PermanentError, type UnitOfWork } from '@orderflow/messaging';
import { describe, expect, it } from 'vitest';
import { defineSaga } from '../definition/saga-definition.js';
import { SagaEngine, type SagaTransition } from './saga-engine.js';

describe('SagaEngine', () => {
  it('dead-letters a message whose correlation id is not a UUID, before it touches the database', async () => {
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
      'warehouse.stock-reserved.v1 01a2075c-734f-7097-9b6d-7342d95826b0 correlates to "order-42", not a UUID: ' +
        'no subjects saga can be keyed by it',
    );
  });

  describe('tells its observer of each state change it writes', () => {
    const saga = defineSaga('observed', ({ when }) => ({
      states: ['Reserving', 'Releasing', 'Voiding'],
      initially: [when(OrderPlaced).transitionTo('Reserving')],
      during: {
        Reserving: [
          when(StockUnavailable).transitionTo('Releasing'),
          when(PaymentAuthorized).transitionTo('Reserving'),
        ],
        Releasing: [when(StockReserved).transitionTo('Voiding')],
        Voiding: [when(PaymentAuthorized).finalize()],
      },
      compensating: ['Releasing', 'Voiding'],
    }));
    const orderId = '0197a9e4-5a3c-7b1e-9d2f-3c4b5a6d7e8f';

    // What the store asks of the unit of work's manager, answered for an instance in `state` for 42 s.
    function unitOfWorkWith(state: string | undefined): UnitOfWork {
      const manager = {
        query(sql: string): Promise<unknown[]> {
          if (sql.startsWith('SELECT state, data, version'))
            return Promise.resolve(state ? [{ state, data: {}, version: 3, seconds_in_state: 42 }] : []);
          if (sql.includes('RETURNING version')) return Promise.resolve([{ version: 4 }]);
          return Promise.resolve([]);
        },
      };
      return { manager, send: () => undefined, publish: () => undefined } as unknown as UnitOfWork;
    }
    const message = (type: string) => ({
      id: '0197a9e4-5a3c-7b1e-9d2f-000000000001',
      type,
      subject: orderId,
      data: {},
      source: '/orderflow/test',
      time: new Date().toISOString(),
      correlationId: orderId,
      attempt: 1,
      lastAttempt: false,
      queue: 'saga.events',
    });
    async function observe(state: string | undefined, type: string): Promise<SagaTransition[]> {
      const seen: SagaTransition[] = [];
      await new SagaEngine(saga, { transitioned: (t) => seen.push(t) }).handle(message(type), unitOfWorkWith(state));
      return seen;
    }

    it('with the time spent in the state it leaves, and whether it starts compensating', async () => {
      expect(await observe('Reserving', StockUnavailable.type)).toEqual([
        {
          saga: 'observed',
          event: StockUnavailable.type,
          from: 'Reserving',
          to: 'Releasing',
          startsCompensation: true,
          secondsInFrom: 42,
        },
      ]);
      expect((await observe('Releasing', StockReserved.type))[0]).toMatchObject({
        to: 'Voiding',
        startsCompensation: false,
      });
    });

    it('without a time for a new instance, and not at all when the state stays or the event is ignored', async () => {
      expect(await observe(undefined, OrderPlaced.type)).toEqual([
        { saga: 'observed', event: OrderPlaced.type, from: 'Initial', to: 'Reserving', startsCompensation: false },
      ]);
      expect(await observe('Reserving', PaymentAuthorized.type)).toEqual([]);
      expect(await observe('Voiding', StockUnavailable.type)).toEqual([]);
    });
  });
});
