import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  CreateShipment,
  type DataOf,
  type OutgoingMessage,
  ShipmentCreated,
  ShipmentRejected,
} from '@orderflow/contracts';
import { HandleMessage, type IncomingMessage, TransientError, type UnitOfWork } from '@orderflow/messaging';
import { Carrier, CarrierUnavailable } from './carrier.js';
import { Shipment } from './shipment.js';
import { ShipmentsRepository } from './shipments.repository.js';

/**
 * Books the order's shipment with the carrier, once: a re-sent command is answered with the first outcome.
 *
 * The carrier is called inside the unit of work's transaction, which the consumer owns. What that buys: the shipment
 * row and its event commit together or not at all, and a rollback after the carrier booked is harmless, because the
 * retry asks again under the same idempotency key (the order id) and gets the same booking. What it costs: a pooled
 * connection and an open transaction held while the carrier answers. The consumer handles a batch of messages in one
 * transaction, one after another, so a slow carrier holds a connection for up to CARRIER_TIMEOUT_MS per command in
 * the batch, on each of CONSUMER_LANES lanes; and one failed call rolls the batch back, whose other commands are then
 * asked for again (same answers, twice the calls). Acceptable at one call per order, with a carrier that answers in
 * milliseconds and a timeout of seconds. Not if the carrier turns slow or the volume grows: then book outside the
 * transaction (record a BOOKING intent, commit, call, record the answer, and sweep the intents left behind).
 */
@Injectable()
export class ShipmentBooking {
  constructor(
    private readonly carrier: Carrier,
    private readonly shipments: ShipmentsRepository,
  ) {}

  @HandleMessage(CreateShipment)
  async onCreateShipment(message: IncomingMessage<DataOf<typeof CreateShipment>>, uow: UnitOfWork): Promise<void> {
    const { orderId } = message.data;
    const [earlier] = await this.shipments.listByOrder(uow.manager, orderId);
    if (earlier) {
      uow.publish(outcomeOf(earlier));
      return;
    }
    const shipment = await this.book(message);
    await this.shipments.insert(uow.manager, shipment);
    uow.publish(outcomeOf(shipment));
  }

  private async book(message: IncomingMessage<DataOf<typeof CreateShipment>>): Promise<Shipment> {
    const { orderId, address, items } = message.data;
    try {
      const result = await this.carrier.book({ orderId, address, parcels: items });
      return Shipment.fromBooking({ id: randomUUID(), orderId, result, now: new Date() });
    } catch (err) {
      if (!(err instanceof CarrierUnavailable)) throw err;
      if (!message.lastAttempt) throw new TransientError(err.message, { cause: err });
      // Out of attempts: the saga hears the step failed and compensates, instead of the order waiting in a DLQ.
      // A timeout may hide a booking the carrier did make; its API has no cancellation, so that parcel is left to it.
      return Shipment.carrierUnavailable({
        id: randomUUID(),
        orderId,
        reason: `${err.message} (after ${message.attempt} attempts)`,
        now: new Date(),
      });
    }
  }
}

/** The event that answers CreateShipment for this shipment: the same one however often the command is sent. */
function outcomeOf(shipment: Shipment): OutgoingMessage {
  const s = shipment.snapshot;
  if (s.status === 'REJECTED') {
    return ShipmentRejected.of({ orderId: s.orderId, code: s.rejection.code, reason: s.rejection.reason }, s.orderId);
  }
  return ShipmentCreated.of(
    { orderId: s.orderId, shipmentId: s.id, trackingNumber: s.booking.trackingNumber },
    s.orderId,
  );
}
