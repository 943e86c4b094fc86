import { describe, expect, it } from 'vitest';
import { CarrierUnavailable } from './carrier.js';
import { interpretBookingAnswer, interpretStatusAnswer, toCarrierRequest } from './http-carrier.js';

describe('toCarrierRequest', () => {
  it('books under the order id, with the recipient, the parcels and where to report the delivery', () => {
    const request = toCarrierRequest(
      {
        orderId: 'o-1',
        address: { name: 'Ada', line1: '1 Loop Rd', city: 'Cambridge', postalCode: 'CB1', country: 'GB' },
        parcels: [{ sku: 'A-1', quantity: 2 }],
      },
      'http://logistics/carrier/deliveries',
    );
    expect(request).toEqual({
      reference: 'o-1',
      recipient: { name: 'Ada', line1: '1 Loop Rd', city: 'Cambridge', postalCode: 'CB1', country: 'GB' },
      parcels: [{ sku: 'A-1', quantity: 2 }],
      deliveryWebhookUrl: 'http://logistics/carrier/deliveries',
    });
  });
});

describe('interpretBookingAnswer', () => {
  it('reads a booking from 201', () => {
    expect(interpretBookingAnswer(201, { shipmentId: 'c-1', trackingNumber: 'T-1', status: 'booked' })).toEqual({
      outcome: 'booked',
      carrierShipmentId: 'c-1',
      trackingNumber: 'T-1',
    });
  });

  it('reads COUNTRY_NOT_SERVED as an address the carrier does not serve', () => {
    const result = interpretBookingAnswer(422, { code: 'COUNTRY_NOT_SERVED', message: 'no delivery to ZZ' });
    expect(result).toEqual({ outcome: 'not-served', reason: expect.stringContaining('no delivery to ZZ') as string });
    const verbose = interpretBookingAnswer(422, { code: 'COUNTRY_NOT_SERVED', message: 'x'.repeat(5_000), more: 1 });
    expect(verbose.outcome).toBe('not-served');
  });

  it('reads any other 4xx as a refusal that asking again would not change', () => {
    expect(interpretBookingAnswer(400, { code: 'MALFORMED_REQUEST' })).toEqual({
      outcome: 'refused',
      reason: 'the carrier refused the booking (HTTP 400 MALFORMED_REQUEST)',
    });
    expect(interpretBookingAnswer(422, { code: 'IDEMPOTENCY_KEY_REUSED' })).toMatchObject({ outcome: 'refused' });
    expect(interpretBookingAnswer(404, 'not json at all')).toMatchObject({ outcome: 'refused' });
  });

  it.each([500, 502, 503, 504, 408, 409, 425, 429, 302])('takes %i as no answer yet', (status) => {
    expect(() => interpretBookingAnswer(status, undefined)).toThrow(CarrierUnavailable);
  });

  it('takes a success it cannot read as no answer yet, so the booking is asked for again', () => {
    expect(() => interpretBookingAnswer(201, { shipmentId: 'c-1' })).toThrow(CarrierUnavailable);
    expect(() => interpretBookingAnswer(201, { shipmentId: 'c-1', trackingNumber: 'T'.repeat(101) })).toThrow(
      CarrierUnavailable,
    );
    expect(() => interpretBookingAnswer(200, undefined)).toThrow(CarrierUnavailable);
  });
});

describe('interpretStatusAnswer', () => {
  it('reads a delivery, with the time the carrier gives', () => {
    expect(interpretStatusAnswer(200, { status: 'delivered', deliveredAt: '2026-12-04T10:00:00.000Z' })).toEqual({
      delivered: true,
      deliveredAt: new Date('2026-12-04T10:00:00.000Z'),
    });
  });

  it('reads any other status as not delivered yet', () => {
    expect(interpretStatusAnswer(200, { status: 'booked' })).toEqual({ delivered: false });
  });

  it('takes an unknown shipment, an error or an unreadable view as no answer', () => {
    for (const [status, body] of [
      [404, { code: 'SHIPMENT_NOT_FOUND' }],
      [503, undefined],
      [200, { nothing: true }],
      [200, { status: 'delivered' }],
    ] as const) {
      expect(() => interpretStatusAnswer(status, body)).toThrow(CarrierUnavailable);
    }
  });
});
