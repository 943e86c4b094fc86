import {
  OrderCancellationRequested,
  OrderPlaced,
  PaymentAuthorized,
  PaymentDeclined,
  PaymentVoided,
  StockReserved,
  StockUnavailable,
} from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import { defineSaga } from '../definition/saga-definition.js';
import { toMermaid } from './mermaid.js';

const example = defineSaga('example', ({ when, ignore }) => ({
  states: ['AwaitingPayment', 'ReservingStock', 'Cancelling'],
  initially: [when(OrderPlaced).transitionTo('AwaitingPayment'), ignore(PaymentVoided)],
  during: {
    AwaitingPayment: [
      when(PaymentAuthorized).transitionTo('ReservingStock'),
      when(PaymentDeclined).finalize(),
      when(OrderCancellationRequested).finalize(),
    ],
    ReservingStock: [
      when(StockReserved).finalize(),
      when(StockUnavailable).transitionTo('Cancelling'),
      when(PaymentAuthorized).then(() => undefined),
    ],
    Cancelling: [when(PaymentVoided).finalize(), ignore(OrderCancellationRequested), ignore(StockReserved)],
  },
  duringAny: [when(OrderCancellationRequested).transitionTo('Cancelling')],
}));

describe('toMermaid', () => {
  it('draws every row of the table as a stateDiagram-v2, in the order written', () => {
    expect(toMermaid(example)).toBe(
      [
        'stateDiagram-v2',
        '  [*] --> AwaitingPayment : order.placed.v1',
        '  AwaitingPayment --> ReservingStock : payment.authorized.v1',
        '  AwaitingPayment --> [*] : payment.declined.v1',
        '  AwaitingPayment --> [*] : order.cancellation-requested.v1',
        '  ReservingStock --> [*] : warehouse.stock-reserved.v1',
        '  ReservingStock --> Cancelling : warehouse.stock-unavailable.v1',
        '  ReservingStock --> ReservingStock : payment.authorized.v1',
        '  ReservingStock --> Cancelling : order.cancellation-requested.v1 (any state)',
        '  Cancelling --> [*] : payment.voided.v1',
        '  note right of Cancelling : ignores order.cancellation-requested.v1, warehouse.stock-reserved.v1',
        '',
      ].join('\n'),
    );
  });

  it('notes a duringAny ignore beside each state it applies to, and draws nothing for it from Initial', () => {
    const quiet = defineSaga('quiet', ({ when, ignore }) => ({
      states: ['Paying', 'Reserving'],
      initially: [when(OrderPlaced).transitionTo('Paying'), ignore(PaymentDeclined)],
      during: {
        Paying: [when(PaymentAuthorized).transitionTo('Reserving'), when(PaymentDeclined).finalize()],
        Reserving: [when(StockReserved).finalize()],
      },
      duringAny: [ignore(PaymentDeclined), ignore(PaymentVoided)],
    }));
    expect(toMermaid(quiet).split('\n')).toEqual([
      'stateDiagram-v2',
      '  [*] --> Paying : order.placed.v1',
      '  Paying --> Reserving : payment.authorized.v1',
      '  Paying --> [*] : payment.declined.v1',
      '  Reserving --> [*] : warehouse.stock-reserved.v1',
      '  note right of Paying : ignores payment.voided.v1',
      '  note right of Reserving : ignores payment.declined.v1, payment.voided.v1',
      '',
    ]);
  });
});
