/**
 * A shipment: the booking of an order's parcels with the carrier, and what became of them. An order has one: the
 * first answer is kept, so a re-sent command is answered from it instead of asking the carrier again.
 *
 *   BOOKING ──carrier booked──▶ CREATED ──delivered (carrier or customer)──▶ DELIVERED
 *      │  ▲
 *      │  └─ no answer, attempts left: asked again after a backoff
 *      └──not served, refused, or no answer on the last attempt──▶ REJECTED: final
 *
 * BOOKING is the intent to book, recorded before the carrier is asked (see shipment-booker.ts): it holds what the
 * carrier needs, so whichever process finds it can ask.
 */
import type { BookingRequest, BookingResult } from './carrier.js';
import { Conflict } from '@orderflow/platform/domain-errors';

export const SHIPMENT_STATUSES = ['BOOKING', 'CREATED', 'DELIVERED', 'REJECTED'] as const;
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
    | {
        status: 'BOOKING';
        request: BookingRequest;
        /** Calls to the carrier that got no answer so far. */
        attempts: number;
      }
    | { status: 'CREATED'; booking: CarrierBooking }
    | ({ status: 'DELIVERED'; booking: CarrierBooking } & Delivery)
    | { status: 'REJECTED'; rejection: { code: RejectionCode; reason: string } }
  );

/** How often, and how far apart, a booking the carrier does not answer is asked for. */
export interface BookingRetryPolicy {
  /** Calls in all, the first included; no answer to the last one rejects the shipment as CARRIER_ERROR. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** As long as a reason may be in the messages that carry it. */
export const MAX_REASON_LENGTH = 500;

const shortened = (reason: string) =>
  reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;

/**
 * "Equal jitter" after the `attempts`-th call went unanswered: half the exponential step for sure, the other half at
 * random, so the intents left by one outage do not all ask again at the same moment.
 */
export function bookingRetryDelayMs(
  attempts: number,
  policy: BookingRetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class ShipmentNotDeliverable extends Conflict {
  constructor(readonly status: ShipmentStatus) {
    super(`a shipment that is ${status} cannot be delivered`);
  }
}

/** The carrier's answer was already recorded (or the shipment was never booked through this intent). */
export class ShipmentNotBooking extends Error {
  constructor(readonly status: ShipmentStatus) {
    super(`a shipment that is ${status} is not waiting for the carrier’s answer`);
  }
}

export class Shipment {
  private constructor(private state: ShipmentState) {}

  /** The intent to book the order's parcels: recorded before the carrier is asked, so it survives the asking. */
  static bookingRequested(input: { id: string; request: BookingRequest; now: Date }): Shipment {
    const at = input.now.toISOString();
    return new Shipment({
      id: input.id,
      orderId: input.request.orderId,
      createdAt: at,
      updatedAt: at,
      status: 'BOOKING',
      request: input.request,
      attempts: 0,
    });
  }

  static restore(state: ShipmentState): Shipment {
    return new Shipment(state);
  }

  get snapshot(): Readonly<ShipmentState> {
    return this.state;
  }

  /** What to ask the carrier for; only a shipment still BOOKING has it. */
  get bookingRequest(): BookingRequest {
    const state = this.state;
    if (state.status !== 'BOOKING') throw new ShipmentNotBooking(state.status);
    return state.request;
  }

  /** The carrier answered: booked (CREATED), or rejected with the code the saga acts on. */
  recordBooking(result: BookingResult, now: Date): void {
    const { id, orderId, createdAt, status } = this.state;
    if (status !== 'BOOKING') throw new ShipmentNotBooking(status);
    const common = { id, orderId, createdAt, updatedAt: now.toISOString() };
    switch (result.outcome) {
      case 'booked':
        this.state = {
          ...common,
          status: 'CREATED',
          booking: { carrierShipmentId: result.carrierShipmentId, trackingNumber: result.trackingNumber },
        };
        return;
      case 'not-served':
        this.state = {
          ...common,
          status: 'REJECTED',
          rejection: { code: 'SHIPPING_UNAVAILABLE', reason: shortened(result.reason) },
        };
        return;
      case 'refused':
        this.state = {
          ...common,
          status: 'REJECTED',
          rejection: { code: 'CARRIER_ERROR', reason: shortened(result.reason) },
        };
        return;
    }
  }

  /**
   * The carrier gave no answer (it could not be reached, timed out, or failed). With attempts left the shipment stays
   * BOOKING and this says how long to wait before asking again; after the last one it is REJECTED as CARRIER_ERROR,
   * so the saga hears the step failed and compensates (and this returns undefined). A timeout may hide a booking the
   * carrier did make; its API has no cancellation, so that parcel is left to it.
   */
  recordNoAnswer(
    reason: string,
    now: Date,
    policy: BookingRetryPolicy,
    random: () => number = Math.random,
  ): { retryInMs: number } | undefined {
    const state = this.state;
    if (state.status !== 'BOOKING') throw new ShipmentNotBooking(state.status);
    const attempts = state.attempts + 1;
    const updatedAt = now.toISOString();
    if (attempts < policy.maxAttempts) {
      this.state = { ...state, attempts, updatedAt };
      return { retryInMs: bookingRetryDelayMs(attempts, policy, random) };
    }
    const { id, orderId, createdAt } = state;
    this.state = {
      id,
      orderId,
      createdAt,
      updatedAt,
      status: 'REJECTED',
      rejection: { code: 'CARRIER_ERROR', reason: shortened(`${reason} (after ${attempts} attempts)`) },
    };
    return undefined;
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
