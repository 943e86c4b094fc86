import { describe, expect, it } from 'vitest';
import { Order, OrderNotCancellable, OrderTotalTooLarge } from './order.js';

const address = { name: 'Ada', line1: '1 Loop Rd', city: 'Cambridge', postalCode: 'CB1', country: 'GB' };
const place = (
  items = [
    { sku: 'A-1', quantity: 2, unitPrice: 1250 },
    { sku: 'B-2', quantity: 1, unitPrice: 99 },
  ],
) =>
  Order.place({
    id: 'o-1',
    merchantId: 'm-1',
    customerId: 'c-1',
    currency: 'EUR',
    items,
    shippingAddress: address,
    now: new Date('2026-01-01T00:00:00Z'),
  });

describe('Order', () => {
  it('is placed PENDING with its total in minor units', () => {
    const order = place();
    expect(order.snapshot).toMatchObject({ status: 'PENDING', totalAmount: 2599, history: [{ status: 'PENDING' }] });
  });

  it('refuses a total beyond a safe integer', () => {
    expect(() => place([{ sku: 'X', quantity: 1_000_000, unitPrice: Number.MAX_SAFE_INTEGER }])).toThrow(
      OrderTotalTooLarge,
    );
  });

  it('moves forward through the statuses and records each in its history', () => {
    const order = place();
    expect(order.recordStatus('CONFIRMED', new Date('2026-01-01T00:01:00Z'))).toBe('changed');
    expect(order.recordStatus('SHIPPED', new Date('2026-01-01T00:02:00Z'))).toBe('changed');
    expect(order.recordStatus('DELIVERED', new Date('2026-01-01T00:03:00Z'))).toBe('changed');
    expect(order.snapshot.history.map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED']);
  });

  it('ignores duplicate and stale reports', () => {
    const order = place();
    order.recordStatus('CONFIRMED', new Date());
    order.recordStatus('SHIPPED', new Date());
    expect(order.recordStatus('CONFIRMED', new Date())).toBe('stale');
    expect(order.recordStatus('SHIPPED', new Date())).toBe('stale');
    expect(order.recordStatus('CANCELLED', new Date(), 'TIMED_OUT')).toBe('stale');
    expect(order.snapshot.status).toBe('SHIPPED');
  });

  it('takes a delivery that overtook its shipment report, and then adds the late SHIPPED to the history only', () => {
    const order = place();
    order.recordStatus('CONFIRMED', new Date('2026-01-01T00:01:00Z'));
    expect(order.recordStatus('DELIVERED', new Date('2026-01-01T00:03:00Z'))).toBe('changed');
    expect(order.recordStatus('SHIPPED', new Date('2026-01-01T00:02:00Z'))).toBe('amended');
    expect(order.snapshot.status).toBe('DELIVERED');
    expect(order.snapshot.history.map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED']);
  });

  it('loses no report whatever order they arrive in: the last status wins, the history is in time order', () => {
    const order = place();
    expect(order.recordStatus('DELIVERED', new Date('2026-01-01T00:03:00Z'))).toBe('changed');
    expect(order.recordStatus('SHIPPED', new Date('2026-01-01T00:02:00Z'))).toBe('amended');
    expect(order.recordStatus('CONFIRMED', new Date('2026-01-01T00:01:00Z'))).toBe('amended');
    expect(order.recordStatus('CONFIRMED', new Date('2026-01-01T00:01:00Z'))).toBe('stale');
    expect(order.snapshot.status).toBe('DELIVERED');
    expect(order.snapshot.history.map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED']);
  });

  it('places a confirmation that arrives after the cancellation it preceded, and refuses what the lifecycle cannot place', () => {
    const order = place();
    expect(order.recordStatus('CANCELLED', new Date('2026-01-01T00:02:00Z'), 'OUT_OF_STOCK')).toBe('changed');
    expect(order.recordStatus('CONFIRMED', new Date('2026-01-01T00:01:00Z'))).toBe('amended');
    expect(order.recordStatus('SHIPPED', new Date('2026-01-01T00:03:00Z'))).toBe('stale');
    expect(order.snapshot).toMatchObject({ status: 'CANCELLED', statusReason: 'OUT_OF_STOCK' });
    expect(order.snapshot.history.map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED', 'CANCELLED']);
  });

  it('keeps the reason of a cancellation', () => {
    const order = place();
    order.recordStatus('CANCELLED', new Date(), 'OUT_OF_STOCK');
    expect(order.snapshot).toMatchObject({ status: 'CANCELLED', statusReason: 'OUT_OF_STOCK' });
  });

  it('accepts a cancellation request until it ships, once', () => {
    const order = place();
    expect(order.requestCancellation(new Date())).toBe(true);
    expect(order.requestCancellation(new Date())).toBe(false);
    const shipped = place();
    shipped.recordStatus('CONFIRMED', new Date());
    shipped.recordStatus('SHIPPED', new Date());
    expect(() => shipped.requestCancellation(new Date())).toThrow(OrderNotCancellable);
  });
});
