import {
  OrderCancellationRequested,
  OrderPlaced,
  PaymentAuthorized,
  PaymentDeclined,
  StockReserved,
  StockUnavailable,
} from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import type { SagaDsl } from './behavior.js';
import { deadline } from './deadline.js';
import { deadlinesIn, defineSaga, InvalidSagaDefinition, ruleFor, rulesOf, type SagaSpec } from './saga-definition.js';

// A valid two-state saga; each test breaks one thing about it.
const valid = ({ when }: SagaDsl<object, string>): SagaSpec<object, string> => ({
  states: ['Paying', 'Reserving'],
  initially: [when(OrderPlaced).transitionTo('Paying')],
  during: {
    Paying: [when(PaymentAuthorized).transitionTo('Reserving'), when(PaymentDeclined).finalize()],
    Reserving: [when(StockReserved).finalize()],
  },
});

function problemsOf(build: (dsl: SagaDsl<object, string>) => SagaSpec<object, string>): readonly string[] {
  try {
    defineSaga('broken', build);
  } catch (err) {
    if (err instanceof InvalidSagaDefinition) return err.problems;
    throw err;
  }
  throw new Error('the definition was accepted');
}

describe('defineSaga', () => {
  it('accepts a valid saga and lists the events it consumes once each, in the order written', () => {
    const saga = defineSaga('valid', valid);
    expect(saga.type).toBe('valid');
    expect(saga.states).toEqual(['Paying', 'Reserving']);
    expect(saga.events.map((e) => e.type)).toEqual([
      'order.placed.v1',
      'payment.authorized.v1',
      'payment.declined.v1',
      'warehouse.stock-reserved.v1',
    ]);
  });

  it('refuses a target state that is not declared, with a hint for Final', () => {
    expect(
      problemsOf((dsl) => ({
        ...valid(dsl),
        initially: [dsl.when(OrderPlaced).transitionTo('Payng')],
        duringAny: [dsl.when(OrderCancellationRequested).transitionTo('Final')],
      })),
    ).toEqual([
      'initially, order.placed.v1 goes to "Payng", which is not a declared state',
      'duringAny, order.cancellation-requested.v1 goes to "Final", which is not a declared state (use finalize())',
    ]);
  });

  it('refuses a state that no row leaves', () => {
    expect(
      problemsOf((dsl) => ({
        ...valid(dsl),
        during: { ...valid(dsl).during, Reserving: [dsl.when(StockUnavailable).then(() => undefined)] },
      })),
    ).toEqual(['the state "Reserving" has no row that leaves it: an instance there would wait forever']);
    expect(problemsOf((dsl) => ({ ...valid(dsl), during: { Paying: valid(dsl).during!.Paying } }))).toEqual([
      'the state "Reserving" has no row that leaves it: an instance there would wait forever',
    ]);
  });

  it('counts a duringAny row as a way out of every state it applies to', () => {
    const saga = defineSaga('any-exit', (dsl) => ({
      ...valid(dsl),
      during: { Paying: valid(dsl).during!.Paying },
      duringAny: [dsl.when(OrderCancellationRequested).finalize()],
    }));
    expect(ruleFor(saga, 'Reserving', OrderCancellationRequested.type)?.to).toBe('Final');
  });

  it('refuses two rows for one event in one state, in initially and in duringAny', () => {
    expect(
      problemsOf((dsl) => ({
        ...valid(dsl),
        initially: [dsl.when(OrderPlaced).transitionTo('Paying'), dsl.ignore(OrderPlaced)],
        during: {
          ...valid(dsl).during,
          Reserving: [dsl.when(StockReserved).finalize(), dsl.when(StockReserved).transitionTo('Paying')],
        },
        duringAny: [dsl.when(OrderCancellationRequested).finalize(), dsl.ignore(OrderCancellationRequested)],
      })),
    ).toEqual([
      'initially has two rows for order.placed.v1',
      'during Reserving has two rows for warehouse.stock-reserved.v1',
      'duringAny has two rows for order.cancellation-requested.v1',
    ]);
  });

  it('allows a state’s own row and a duringAny row for the same event', () => {
    expect(() =>
      defineSaga('override', (dsl) => ({
        ...valid(dsl),
        duringAny: [dsl.when(PaymentDeclined).transitionTo('Paying')],
      })),
    ).not.toThrow();
  });

  it('refuses a state that cannot be reached from Initial', () => {
    expect(
      problemsOf((dsl) => ({
        ...valid(dsl),
        states: ['Paying', 'Reserving', 'Orphan'],
        during: { ...valid(dsl).during, Orphan: [dsl.when(StockReserved).finalize()] },
      })),
    ).toEqual(['the state "Orphan" cannot be reached from Initial']);
  });

  it('refuses bad names, undeclared states in during and unexpected, and unknown policies', () => {
    expect(
      problemsOf((dsl) => ({
        ...valid(dsl),
        states: ['Paying', 'Reserving', 'Final', 'Paying', 'two words'],
        during: { ...valid(dsl).during, Shipping: [] },
        unexpected: { Shiping: 'ignore', Paying: 'drop' as 'ignore' },
      })),
    ).toEqual([
      '"Final" is reserved and cannot be declared as a state',
      'the state "Paying" is declared twice',
      'the state name "two words" is not an identifier',
      '`during` names "Shipping", which is not a declared state',
      '`unexpected` names "Shiping", which is not a declared state, Initial, Final or default',
      '`unexpected` for "Paying" is "drop", not one of ignore, record',
    ]);
  });

  it('refuses a compensating state that is not declared', () => {
    expect(problemsOf((dsl) => ({ ...valid(dsl), compensating: ['Refunding'] }))).toEqual([
      '`compensating` names "Refunding", which is not a declared state',
    ]);
    expect(defineSaga('undoes', (dsl) => ({ ...valid(dsl), compensating: ['Reserving'] })).compensating).toEqual([
      'Reserving',
    ]);
  });

  it('refuses a deadline that can run in a state with no row for it: a state’s own, and each a row schedules', () => {
    const payment = deadline('spec-payment', { after: 1_000 });
    const stock = deadline('spec-stock', { after: 1_000, retries: 2 });
    const twoAtOnce = (dsl: SagaDsl<object, string>): SagaSpec<object, string> => ({
      ...valid(dsl),
      initially: [dsl.when(OrderPlaced).schedule(payment).schedule(stock).transitionTo('Paying')],
      deadlines: { Reserving: payment },
    });
    expect(problemsOf(twoAtOnce)).toEqual([
      'Paying has the spec-payment deadline but no row for deadline.spec-payment-expired.v1',
      'Paying has the spec-stock deadline but no row for deadline.spec-stock-expired.v1',
      "Paying's spec-stock deadline retries, but Paying has no row for deadline.spec-stock-retry.v1",
      'Reserving has the spec-payment deadline but no row for deadline.spec-payment-expired.v1',
    ]);
    const handled = defineSaga('two-deadlines', (dsl) => {
      const spec = twoAtOnce(dsl);
      return {
        ...spec,
        during: {
          Paying: [
            ...spec.during!.Paying!,
            dsl.when(payment.expired).finalize(),
            dsl.when(stock.retry).transitionTo('Paying'),
            dsl.when(stock.expired).finalize(),
          ],
          Reserving: [...spec.during!.Reserving!, dsl.when(payment.expired).finalize()],
        },
      };
    });
    expect(deadlinesIn(handled, 'Paying').map((d) => d.name)).toEqual(['spec-payment', 'spec-stock']);
    expect(deadlinesIn(handled, 'Reserving').map((d) => d.name)).toEqual(['spec-payment']);
  });

  it('keeps a retired state for the instances left in it, and refuses a row of a current state that enters it', () => {
    const withRetired = (dsl: SagaDsl<object, string>): SagaSpec<object, string> => ({
      ...valid(dsl),
      states: ['Paying', 'Reserving', 'Waiting'],
      during: { ...valid(dsl).during, Waiting: [dsl.when(StockReserved).transitionTo('Reserving')] },
      retired: ['Waiting'],
    });
    expect(defineSaga('retiring', withRetired).retired).toEqual(['Waiting']);
    expect(problemsOf((dsl) => ({ ...withRetired(dsl), retired: [] }))).toEqual([
      'the state "Waiting" cannot be reached from Initial',
    ]);
    expect(problemsOf((dsl) => ({ ...withRetired(dsl), retired: ['Waiting', 'Gone'] }))).toEqual([
      '`retired` names "Gone", which is not a declared state',
    ]);
    expect(
      problemsOf((dsl) => ({
        ...withRetired(dsl),
        during: { ...withRetired(dsl).during, Paying: [dsl.when(PaymentAuthorized).transitionTo('Waiting')] },
      })),
    ).toContain('Paying, payment.authorized.v1 goes to "Waiting", which is retired: nothing new may enter it');
  });

  it('refuses an initial row that would create an instance in no state, and a saga nothing starts', () => {
    expect(problemsOf((dsl) => ({ ...valid(dsl), initially: [dsl.when(OrderPlaced).then(() => undefined)] }))).toEqual(
      // The table is not walked for reachability until its rows are well-formed.
      ['initially, order.placed.v1 must transitionTo a state, finalize, or be ignored'],
    );
    expect(problemsOf((dsl) => ({ ...valid(dsl), initially: [] }))).toContain(
      'nothing in `initially`: no event can start the saga',
    );
  });

  it('with its state names as a type, turns a misspelt target into a compile error too', () => {
    expect(() =>
      defineSaga<object, 'Paying'>('typed', ({ when }) => ({
        states: ['Paying'],
        // @ts-expect-error "Payng" is not a state of this saga
        initially: [when(OrderPlaced).transitionTo('Payng')],
        during: { Paying: [when(PaymentDeclined).finalize()] },
      })),
    ).toThrow(InvalidSagaDefinition);
  });
});

describe('rulesOf', () => {
  it('lists every row in the order written, with duringAny expanded where no own row overrides it', () => {
    const saga = defineSaga('table', (dsl) => ({
      ...valid(dsl),
      duringAny: [dsl.when(OrderCancellationRequested).finalize(), dsl.when(PaymentDeclined).finalize()],
    }));
    expect(rulesOf(saga).map((r) => `${r.from} -[${r.event} / ${r.source}]-> ${r.to}`)).toEqual([
      'Initial -[order.placed.v1 / initially]-> Paying',
      'Paying -[payment.authorized.v1 / during]-> Reserving',
      'Paying -[payment.declined.v1 / during]-> Final',
      'Paying -[order.cancellation-requested.v1 / duringAny]-> Final',
      'Reserving -[warehouse.stock-reserved.v1 / during]-> Final',
      'Reserving -[order.cancellation-requested.v1 / duringAny]-> Final',
      'Reserving -[payment.declined.v1 / duringAny]-> Final',
    ]);
  });
});
