// The REST edge and the message schema, held together: every body `POST /orders` accepts must make an order.placed
// message its schema accepts — or be refused by the domain (an order total too large) — never fail the placement.
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { SecretBox } from '@orderflow/platform';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Order, OrderTotalTooLarge } from '../order.js';
import { orderPlaced } from '../orders.service.js';
import { PlaceOrderDto } from './place-order.dto.js';

const KEY = Buffer.from('an AES-256 key for this test only').toString('base64').slice(0, 43) + '=';

// Mostly valid values, so that many bodies pass the REST validation; the rest near and past its edges.
const text = (max: number) =>
  fc.oneof(
    { arbitrary: fc.string({ minLength: 1, maxLength: max, unit: 'grapheme' }), weight: 12 },
    { arbitrary: fc.string({ maxLength: max + 2 }), weight: 1 },
    { arbitrary: fc.constant(''), weight: 1 },
  );
const oneOf = <T>(values: T[], other: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: fc.constantFrom(...values), weight: 6 }, { arbitrary: other, weight: 1 });
const integerish = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 1_000_000 }), weight: 12 },
  { arbitrary: fc.integer({ min: -2, max: 1_000_001 }), weight: 1 },
  { arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e300, 0.5, -0), weight: 1 },
  { arbitrary: fc.string({ maxLength: 4 }), weight: 1 },
);

const body = fc.record(
  {
    customerId: text(100),
    currency: oneOf(['EUR', 'USD', 'GBP', 'JPY', 'eur', 'Eur', 'EU', 'EURO'], fc.string({ maxLength: 4 })),
    items: fc.array(
      fc.record({
        sku: oneOf(['SKU-1', 'a.b_c-9', '-x', 'x'.repeat(64), 'x'.repeat(65)], fc.string({ maxLength: 70 })),
        quantity: integerish,
        unitPrice: integerish,
      }),
      { minLength: 1, maxLength: 3 },
    ),
    payment: fc.record({ method: oneOf(['card'], fc.string({ maxLength: 5 })), token: text(100) }),
    shippingAddress: fc.record(
      {
        name: text(200),
        line1: text(200),
        line2: text(200),
        city: text(100),
        postalCode: text(20),
        country: oneOf(['GB', 'DE', 'ZZ', 'gb', 'De', 'XX', 'GBR'], fc.string({ maxLength: 3 })),
      },
      { requiredKeys: ['name', 'line1', 'city', 'postalCode', 'country'] },
    ),
  },
  { requiredKeys: ['customerId', 'currency', 'items', 'payment', 'shippingAddress'] },
);

/** What `POST /orders` does with a body before its handler runs: transform, then validate, unknown fields refused. */
function accepted(plain: unknown): PlaceOrderDto | undefined {
  const dto = plainToInstance(PlaceOrderDto, plain);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  return errors.length === 0 ? dto : undefined;
}

const valid = {
  customerId: 'c',
  currency: 'EUR',
  items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
  payment: { method: 'card', token: 'tok_ok' },
  shippingAddress: { name: 'n', line1: 'l', city: 'c', postalCode: 'p', country: 'GB' },
};

describe('POST /orders validation and the order.placed schema', () => {
  it('accept the same orders: no body the REST edge takes fails the message schema', () => {
    let taken = 0;
    fc.assert(
      fc.property(body, (plain) => {
        const dto = accepted(plain);
        if (!dto) return;
        let order: Order;
        try {
          order = Order.place({
            id: crypto.randomUUID(),
            merchantId: 'm',
            customerId: dto.customerId,
            currency: dto.currency,
            items: dto.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
            shippingAddress: { ...dto.shippingAddress },
            now: new Date(),
          });
        } catch (err) {
          expect(err).toBeInstanceOf(OrderTotalTooLarge);
          return;
        }
        taken += 1;
        const sealed = new SecretBox(KEY).seal(dto.payment.token, order.snapshot.id);
        expect(() => orderPlaced(order, sealed)).not.toThrow();
      }),
      { numRuns: 3_000, seed: 20261205 },
    );
    // The property says something only if valid bodies were generated too.
    expect(taken).toBeGreaterThan(20);
  });

  it.each([
    ['a currency in lower case', { currency: 'eur' }],
    ['a country in lower case', { shippingAddress: { country: 'gb' } }],
  ])('refuse %s, which the message schema would refuse', (_what, change) => {
    expect(accepted(valid)).toBeDefined();
    const changed = {
      ...valid,
      ...change,
      shippingAddress: { ...valid.shippingAddress, ...(change as { shippingAddress?: object }).shippingAddress },
    };
    expect(accepted(changed)).toBeUndefined();
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['a string', 'card'],
    ['an array', []],
    ['a number', 7],
  ])('refuse a payment or shipping address that is %s', (_what, value) => {
    expect(accepted({ ...valid, payment: value })).toBeUndefined();
    expect(accepted({ ...valid, shippingAddress: value })).toBeUndefined();
    expect(accepted({ ...valid, items: [value] })).toBeUndefined();
  });
});
