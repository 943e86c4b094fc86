/**
 * A shipment: the carrier's answer to booking an order's parcels, and what became of them. An order has one: the
 * first answer is kept, so a re-sent command is answered from it instead of asking the carrier again.
 *
 *   CREATED ──delivered (carrier or customer)──▶ DELIVERED
 *   REJECTED (not served, refused, or the carrier never answered): final
 */
import type { BookingResult } from './carrier.js';

export const SHIPMENT_STATUSES = ['CREATED', 'DELIVERED', 'REJECTED'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

export const REJECTION_CODES = ['SHIPPING_UNAVAILABLE', 'CARRIER_ERROR'] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** Who reported the delivery: the carrier's webhook, or the customer signing for the parcel. */
export const DELIVERY_REPORTERS = ['CARRIER', 'CUSTOMER'] as const;
export type DeliveryReporter = (typeof DELIVERY_REPORTERS)[number];

export interface CarrierBooking {
  carrierShipmentId: string;
  trackingNumber: string;
}

export interface Delivery {
  deliveredAt: string;
  deliveredBy: DeliveryReporter;
}

interface Common {
  id: string;
  orderId: string;
  createdAt: string;
  updatedAt: string;
}

export type ShipmentState = Common &
  (
    | { status: 'CREATED'; booking: CarrierBooking }
    | ({ status: 'DELIVERED'; booking: CarrierBooking } & Delivery)
    | { status: 'REJECTED'; rejection: { code: RejectionCode; reason: string } }
  );

/** As long as a reason may be in the messages that carry it. */
export const MAX_REASON_LENGTH = 500;

const shortened = (reason: string) =>
  reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;

export class ShipmentNotDeliverable extends Error {
  constructor(readonly status: ShipmentStatus) {
    super(`a shipment that is ${status} cannot be delivered`);
  }
}

export class Shipment {
  private constructor(private state: ShipmentState) {}

  /** The shipment the carrier's answer makes: booked, or rejected with the code the saga acts on. */
  static fromBooking(input: { id: string; orderId: string; result: BookingResult; now: Date }): Shipment {
    const { id, orderId, result, now } = input;
    const at = now.toISOString();
    const common = { id, orderId, createdAt: at, updatedAt: at };
    switch (result.outcome) {
      case 'booked':
        return new Shipment({
          ...common,
          status: 'CREATED',
          booking: { carrierShipmentId: result.carrierShipmentId, trackingNumber: result.trackingNumber },
        });
      case 'not-served':
        return new Shipment({
          ...common,
          status: 'REJECTED',
          rejection: { code: 'SHIPPING_UNAVAILABLE', reason: shortened(result.reason) },
        });
      case 'refused':
        return new Shipment({
          ...common,
          status: 'REJECTED',
          rejection: { code: 'CARRIER_ERROR', reason: shortened(result.reason) },
        });
    }
  }

  /** The carrier never gave an answer, however often it was asked: the step failed, and the saga compensates. */
  static carrierUnavailable(input: { id: string; orderId: string; reason: string; now: Date }): Shipment {
    const at = input.now.toISOString();
    return new Shipment({
      id: input.id,
      orderId: input.orderId,
      createdAt: at,
      updatedAt: at,
      status: 'REJECTED',
      rejection: { code: 'CARRIER_ERROR', reason: shortened(input.reason) },
    });
  }

  static restore(state: ShipmentState): Shipment {
    return new Shipment(state);
  }

  get snapshot(): Readonly<ShipmentState> {
    return this.state;
  }

  /**
   * Records the delivery and returns it; returns undefined (and changes nothing) when it was already recorded: the
   * carrier and the customer may both report it, and the carrier may report it more than once. The first report
   * stands.
   */
  recordDelivery(at: Date, by: DeliveryReporter, now: Date): Delivery | undefined {
    const state = this.state;
    if (state.status === 'DELIVERED') return undefined;
    if (state.status !== 'CREATED') throw new ShipmentNotDeliverable(state.status);
    const delivery: Delivery = { deliveredAt: at.toISOString(), deliveredBy: by };
    this.state = { ...state, status: 'DELIVERED', ...delivery, updatedAt: now.toISOString() };
    return delivery;
  }
}
