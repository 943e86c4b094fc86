import { describe, expect, it } from 'vitest';
import { MAX_REASON_LENGTH, Shipment, ShipmentNotDeliverable } from './shipment.js';

const now = new Date('2026-01-01T00:00:00Z');
const booked = () =>
  Shipment.fromBooking({
    id: 's-1',
    orderId: 'o-1',
    result: { outcome: 'booked', carrierShipmentId: 'c-1', trackingNumber: 'TRACK-1' },
    now,
  });

describe('Shipment', () => {
  it('is CREATED with the carrier’s booking when the carrier books it', () => {
    expect(booked().snapshot).toEqual({
      id: 's-1',
      orderId: 'o-1',
      status: 'CREATED',
      booking: { carrierShipmentId: 'c-1', trackingNumber: 'TRACK-1' },
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
  });

  it('is REJECTED as SHIPPING_UNAVAILABLE when the carrier does not serve the address', () => {
    const shipment = Shipment.fromBooking({
      id: 's-1',
      orderId: 'o-1',
      result: { outcome: 'not-served', reason: 'no delivery to ZZ' },
      now,
    });
    expect(shipment.snapshot).toMatchObject({
      status: 'REJECTED',
      rejection: { code: 'SHIPPING_UNAVAILABLE', reason: 'no delivery to ZZ' },
    });
  });

  it('is REJECTED as CARRIER_ERROR when the carrier refuses it or never answers', () => {
    const refused = Shipment.fromBooking({
      id: 's-1',
      orderId: 'o-1',
      result: { outcome: 'refused', reason: 'HTTP 400' },
      now,
    });
    expect(refused.snapshot).toMatchObject({ status: 'REJECTED', rejection: { code: 'CARRIER_ERROR' } });
    const unanswered = Shipment.carrierUnavailable({ id: 's-2', orderId: 'o-2', reason: 'timeout', now });
    expect(unanswered.snapshot).toMatchObject({
      status: 'REJECTED',
      rejection: { code: 'CARRIER_ERROR', reason: 'timeout' },
    });
  });

  it('shortens a reason to what a message can carry', () => {
    const shipment = Shipment.carrierUnavailable({ id: 's-1', orderId: 'o-1', reason: 'x'.repeat(2_000), now });
    const { snapshot } = shipment;
    expect(snapshot.status === 'REJECTED' && snapshot.rejection.reason.length).toBe(MAX_REASON_LENGTH);
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

  it('refuses a delivery of a shipment that was never booked', () => {
    const rejected = Shipment.carrierUnavailable({ id: 's-1', orderId: 'o-1', reason: 'timeout', now });
    expect(() => rejected.recordDelivery(new Date(), 'CUSTOMER', new Date())).toThrow(ShipmentNotDeliverable);
    expect(rejected.snapshot.status).toBe('REJECTED');
  });
});
