/**
 * The carrier's HTTP API: `POST {CARRIER_URL}/v1/shipments` with the order id as its Idempotency-Key, so a booking
 * asked for again (an answer lost to a timeout, a transaction rolled back after the carrier booked, a re-sent command)
 * is the same booking, never a second parcel. `GET {CARRIER_URL}/v1/shipments/{id}` says whether it was delivered.
 */
import { getJson, postJson } from '@orderflow/platform';
import { z } from 'zod';
import {
  type BookingRequest,
  type BookingResult,
  Carrier,
  type CarrierShipmentStatus,
  CarrierUnavailable,
} from './carrier.js';

export interface HttpCarrierOptions {
  /** Base URL of the carrier's API. */
  url: string;
  /** Bounds the whole exchange: connecting, the answer's headers and its body. */
  timeoutMs: number;
  /** Where the carrier is to report the delivery. */
  webhookUrl: string;
}

export class HttpCarrier extends Carrier {
  private readonly bookingsUrl: string;

  constructor(private readonly options: HttpCarrierOptions) {
    super();
    this.bookingsUrl = `${options.url.replace(/\/+$/, '')}/v1/shipments`;
  }

  async book(request: BookingRequest): Promise<BookingResult> {
    let status: number;
    let body: unknown;
    try {
      const answer = await postJson(this.bookingsUrl, toCarrierRequest(request, this.options.webhookUrl), {
        timeoutMs: this.options.timeoutMs,
        headers: { 'idempotency-key': request.orderId },
      });
      status = answer.status;
      body = parseJson(answer.text);
    } catch (err) {
      throw new CarrierUnavailable(`carrier not reachable: ${describeFailure(err, this.options.timeoutMs)}`, {
        cause: err,
      });
    }
    return interpretBookingAnswer(status, body);
  }

  async status(carrierShipmentId: string): Promise<CarrierShipmentStatus> {
    let answer: { status: number; text: string };
    try {
      answer = await getJson(`${this.bookingsUrl}/${encodeURIComponent(carrierShipmentId)}`, {
        timeoutMs: this.options.timeoutMs,
      });
    } catch (err) {
      throw new CarrierUnavailable(`carrier not reachable: ${describeFailure(err, this.options.timeoutMs)}`, {
        cause: err,
      });
    }
    return interpretStatusAnswer(answer.status, parseJson(answer.text));
  }
}

const tracked = z.object({ status: z.string(), deliveredAt: z.iso.datetime({ offset: true }).optional() });

/**
 * What the carrier's view of a shipment says of its delivery. Anything but a readable 200 is no answer (a carrier
 * that does not know the shipment may not have it on record yet): asked again on the poll's schedule.
 */
export function interpretStatusAnswer(status: number, body: unknown): CarrierShipmentStatus {
  if (status !== 200) throw new CarrierUnavailable(`carrier answered ${status} to a status request`);
  const view = tracked.safeParse(body);
  if (!view.success) throw new CarrierUnavailable('carrier answered 200 without a readable status');
  if (view.data.status !== 'delivered') return { delivered: false };
  if (!view.data.deliveredAt) throw new CarrierUnavailable('carrier says delivered without a delivery time');
  return { delivered: true, deliveredAt: new Date(view.data.deliveredAt) };
}

export function toCarrierRequest(request: BookingRequest, webhookUrl: string) {
  const { name, line1, line2, city, postalCode, country } = request.address;
  return {
    reference: request.orderId,
    recipient: { name, line1, ...(line2 && { line2 }), city, postalCode, country },
    parcels: request.parcels.map(({ sku, quantity }) => ({ sku, quantity })),
    deliveryWebhookUrl: webhookUrl,
  };
}

const booked = z.object({ shipmentId: z.string().min(1).max(100), trackingNumber: z.string().min(1).max(100) });
const excerpt = z
  .string()
  .transform((text) => text.slice(0, 200))
  .optional()
  .catch(undefined);
/** A refusal's body is read leniently: whatever else it says, its code decides. */
const refusal = z.object({ code: excerpt, message: excerpt }).catch({});

/** Statuses that say "not now" rather than "no": the same request may succeed later. */
const RETRYABLE = new Set([408, 409, 425, 429]);

/**
 * What the carrier's answer means for the shipment. Throws CarrierUnavailable where there is no usable answer, so the
 * booking is asked for again (with the same idempotency key, so at most one parcel is booked).
 */
export function interpretBookingAnswer(status: number, body: unknown): BookingResult {
  if (status === 200 || status === 201) {
    const answer = booked.safeParse(body);
    // Booked, perhaps, but unreadable: asking again returns the same booking, which may read better.
    if (!answer.success)
      throw new CarrierUnavailable(`carrier answered ${status} without a shipment id and tracking number`);
    return { outcome: 'booked', carrierShipmentId: answer.data.shipmentId, trackingNumber: answer.data.trackingNumber };
  }
  if (status >= 500 || RETRYABLE.has(status) || status < 400) {
    throw new CarrierUnavailable(`carrier answered ${status}`);
  }
  const { code, message } = refusal.parse(body);
  if (status === 422 && code === 'COUNTRY_NOT_SERVED') {
    return {
      outcome: 'not-served',
      reason: message
        ? `the carrier does not serve this address: ${message}`
        : 'the carrier does not serve this address',
    };
  }
  return {
    outcome: 'refused',
    reason: `the carrier refused the booking (HTTP ${status}${code ? ` ${code}` : ''})${message ? `: ${message}` : ''}`,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error ? err.message : String(err);
}
