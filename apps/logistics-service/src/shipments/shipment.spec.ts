import { describe, expect, it } from 'vitest';
import type { BookingRequest } from './carrier.js';
import {
  type BookingRetryPolicy,
  bookingRetryDelayMs,
  MAX_REASON_LENGTH,
  Shipment,
  ShipmentNotBooking,
  ShipmentNotDeliverable,
} from './shipment.js';

const now = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T00:00:05Z');
const request: BookingRequest = {
  orderId: 'o-1',
  address: { name: 'Ada', line1: '1 Loop Rd', city: 'Cambridge', postalCode: 'CB1', country: 'GB' },
  parcels: [{ sku: 'A-1', quantity: 2 }],
};
const policy: BookingRetryPolicy = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 1_500 };

const requested = () => Shipment.bookingRequested({ id: 's-1', request, now });
const booked = () => {
  const shipment = requested();
  shipment.recordBooking({ outcome: 'booked', carrierShipmentId: 'c-1', trackingNumber: 'TRACK-1' }, now);
  return shipment;
};
/** A shipment whose every call went unanswered until the policy gave up. */
const neverAnswered = (reason = 'timeout') => {
  const shipment = requested();
  while (shipment.snapshot.status === 'BOOKING') shipment.recordNoAnswer(reason, later, policy);
  return shipment;
};

describe('Shipment', () => {
  it('is BOOKING with what to ask the carrier for, before the carrier is asked', () => {
    const shipment = requested();
    expect(shipment.snapshot).toEqual({
      id: 's-1',
      orderId: 'o-1',
      status: 'BOOKING',
      request,
      attempts: 0,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    expect(shipment.bookingRequest).toEqual(request);
  });

  it('is CREATED with the carrier’s booking when the carrier books it', () => {
    const shipment = requested();
    shipment.recordBooking({ outcome: 'booked', carrierShipmentId: 'c-1', trackingNumber: 'TRACK-1' }, later);
    expect(shipment.snapshot).toEqual({
      id: 's-1',
      orderId: 'o-1',
      status: 'CREATED',
      booking: { carrierShipmentId: 'c-1', trackingNumber: 'TRACK-1' },
      createdAt: now.toISOString(),
      updatedAt: later.toISOString(),
    });
  });

  it('is REJECTED as SHIPPING_UNAVAILABLE when the carrier does not serve the address', () => {
    const shipment = requested();
    shipment.recordBooking({ outcome: 'not-served', reason: 'no delivery to ZZ' }, later);
    expect(shipment.snapshot).toMatchObject({
      status: 'REJECTED',
      rejection: { code: 'SHIPPING_UNAVAILABLE', reason: 'no delivery to ZZ' },
    });
  });

  it('is REJECTED as CARRIER_ERROR when the carrier refuses it', () => {
    const shipment = requested();
    shipment.recordBooking({ outcome: 'refused', reason: 'HTTP 400' }, later);
    expect(shipment.snapshot).toMatchObject({
      status: 'REJECTED',
      rejection: { code: 'CARRIER_ERROR', reason: 'HTTP 400' },
    });
  });

  it('stays BOOKING while the carrier does not answer and attempts are left, counting them', () => {
    const shipment = requested();
    expect(shipment.recordNoAnswer('ECONNREFUSED', later, policy, () => 0)).toEqual({ retryInMs: 500 });
    expect(shipment.snapshot).toMatchObject({ status: 'BOOKING', attempts: 1, updatedAt: later.toISOString() });
    expect(shipment.recordNoAnswer('ECONNREFUSED', later, policy, () => 1)).toEqual({ retryInMs: 1_500 });
    expect(shipment.snapshot).toMatchObject({ status: 'BOOKING', attempts: 2, request });
  });

  it('is REJECTED as CARRIER_ERROR once the last attempt goes unanswered, saying after how many', () => {
    const shipment = requested();
    shipment.recordNoAnswer('carrier not reachable: ECONNREFUSED', later, policy);
    shipment.recordNoAnswer('carrier not reachable: ECONNREFUSED', later, policy);
    expect(shipment.recordNoAnswer('carrier not reachable: ECONNREFUSED', later, policy)).toBeUndefined();
    expect(shipment.snapshot).toEqual({
      id: 's-1',
      orderId: 'o-1',
      status: 'REJECTED',
      rejection: { code: 'CARRIER_ERROR', reason: 'carrier not reachable: ECONNREFUSED (after 3 attempts)' },
      createdAt: now.toISOString(),
      updatedAt: later.toISOString(),
    });
  });

  it('records an answer only while BOOKING: a recorded answer stands', () => {
    const shipment = booked();
    expect(() => shipment.recordBooking({ outcome: 'refused', reason: 'HTTP 400' }, later)).toThrow(ShipmentNotBooking);
    expect(() => shipment.recordNoAnswer('timeout', later, policy)).toThrow(ShipmentNotBooking);
    expect(() => shipment.bookingRequest).toThrow(ShipmentNotBooking);
    expect(shipment.snapshot).toMatchObject({ status: 'CREATED', booking: { carrierShipmentId: 'c-1' } });
  });

  it('shortens a reason to what a message can carry', () => {
    const refused = requested();
    refused.recordBooking({ outcome: 'refused', reason: 'x'.repeat(2_000) }, now);
    const unanswered = neverAnswered('x'.repeat(2_000));
    for (const { snapshot } of [refused, unanswered]) {
      expect(snapshot.status === 'REJECTED' && snapshot.rejection.reason.length).toBe(MAX_REASON_LENGTH);
    }
  });

  it('records a delivery once: the first report stands, later ones change nothing', () => {
    const shipment = booked();
    const signedAt = new Date('2026-01-02T10:00:00Z');
    expect(shipment.recordDelivery(signedAt, 'CUSTOMER', signedAt)).toEqual({
      deliveredAt: signedAt.toISOString(),
      deliveredBy: 'CUSTOMER',
    });
    expect(shipment.recordDelivery(new Date('2026-01-02T11:00:00Z'), 'CARRIER', new Date())).toBeUndefined();
    expect(shipment.snapshot).toMatchObject({
      status: 'DELIVERED',
      deliveredAt: signedAt.toISOString(),
      deliveredBy: 'CUSTOMER',
      updatedAt: signedAt.toISOString(),
      booking: { trackingNumber: 'TRACK-1' },
    });
  });

  it('refuses a delivery of a shipment that was never booked, or is still being booked', () => {
    const rejected = neverAnswered();
    expect(() => rejected.recordDelivery(new Date(), 'CUSTOMER', new Date())).toThrow(ShipmentNotDeliverable);
    expect(rejected.snapshot.status).toBe('REJECTED');
    const booking = requested();
    expect(() => booking.recordDelivery(new Date(), 'CARRIER', new Date())).toThrow(
      'a shipment that is BOOKING cannot be delivered',
    );
    expect(booking.snapshot.status).toBe('BOOKING');
  });
});

describe('bookingRetryDelayMs', () => {
  const wide: BookingRetryPolicy = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 6_000 };

  it('doubles with each unanswered call, between half the step and the step, up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => bookingRetryDelayMs(n, wide, () => 0))).toEqual([
      500, 1_000, 2_000, 3_000, 3_000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => bookingRetryDelayMs(n, wide, () => 1))).toEqual([
      1_000, 2_000, 4_000, 6_000, 6_000,
    ]);
  });
});
