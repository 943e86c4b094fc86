/**
 * The carrier as shipments need it: book an order's parcels and say whether they were booked, refused, or the
 * carrier could not be asked; and say where a booked shipment stands, for the delivery its webhook may never report.
 * A port because two carriers stand behind it: the real one in production and the carrier simulator
 * (simulators/carrier) in development and tests; the HTTP adapter (http-carrier.ts) speaks to either.
 *
 * An abstract class rather than an interface only so that it is its own injection token.
 */
import type { Address } from '@orderflow/contracts';

export interface BookingRequest {
  /** Also the booking's idempotency key: asking again for the same order gives the first answer. */
  orderId: string;
  address: Address;
  parcels: { sku: string; quantity: number }[];
}

export type BookingResult =
  | { outcome: 'booked'; carrierShipmentId: string; trackingNumber: string }
  /** The carrier does not deliver to this address. */
  | { outcome: 'not-served'; reason: string }
  /** The carrier refused the booking for another reason; asking again would be refused again. */
  | { outcome: 'refused'; reason: string };

/** The carrier did not answer, or not clearly (timeout, refused connection, 5xx): asking again may work. */
export class CarrierUnavailable extends Error {
  override name = 'CarrierUnavailable';
}

/** A booked shipment as the carrier tracks it. */
export type CarrierShipmentStatus = { delivered: false } | { delivered: true; deliveredAt: Date };

export abstract class Carrier {
  /** Resolves with the carrier's answer; rejects with CarrierUnavailable when there is none. */
  abstract book(request: BookingRequest): Promise<BookingResult>;
  /** Where the shipment the carrier booked under this id stands; rejects with CarrierUnavailable when it won't say. */
  abstract status(carrierShipmentId: string): Promise<CarrierShipmentStatus>;
}
