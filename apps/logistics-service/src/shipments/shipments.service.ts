/**
 * The shipment use cases behind the REST edge. A delivery, however it is reported (the carrier's webhook, the
 * customer's signature, the poll of the carrier), is recorded once, and its `logistics.shipment-delivered` event
 * commits in the same transaction, so the saga hears of every delivery exactly once. The same transaction ends the
 * poll of the carrier (delivery-poll.ts): the poll's own job when the poll found it, else by cancelling it.
 */
import { Injectable } from '@nestjs/common';
import { ShipmentDelivered } from '@orderflow/contracts';
import { Messaging, type WorkContext } from '@orderflow/messaging';
import type { FinishPoll } from '@orderflow/scheduling';
import { DataSource, type EntityManager } from 'typeorm';
import { CarrierDeliveryPoll } from './delivery-poll.js';
import { type DeliveryReporter, type Shipment } from './shipment.js';
import { ShipmentsRepository } from './shipments.repository.js';
import { Conflict, NotFound, Unprocessable } from '@orderflow/platform/domain-errors';

export class ShipmentNotFound extends NotFound {
  constructor() {
    super('No shipment with this id');
  }
}

/** The carrier's report names one order, the shipment it booked for another. */
export class DeliveryReportMismatch extends Unprocessable {
  constructor() {
    super('The shipment was booked for another reference');
  }
}

/**
 * The carrier reports a shipment whose booking is not recorded yet: the order's shipment is still BOOKING (the
 * carrier has answered, or is answering, and the answer is being recorded). A report to make again shortly: the
 * carrier is told to, after a second.
 */
export class ShipmentStillBooking extends Conflict {
  constructor() {
    super('The booking of this reference is still being recorded; report the delivery again after Retry-After', {
      retryAfterSeconds: 1,
    });
  }
}

export interface CarrierDeliveryReport {
  carrierShipmentId: string;
  /** The order id the shipment was booked under. */
  reference: string;
  deliveredAt: Date;
}

@Injectable()
export class ShipmentsService {
  constructor(
    private readonly messaging: Messaging,
    private readonly dataSource: DataSource,
    private readonly shipments: ShipmentsRepository,
    private readonly deliveryPoll: CarrierDeliveryPoll,
  ) {}

  async get(id: string): Promise<Shipment> {
    const shipment = await this.shipments.find(this.dataSource.manager, id);
    if (!shipment) throw new ShipmentNotFound();
    return shipment;
  }

  async listByOrder(orderId: string): Promise<Shipment[]> {
    return this.shipments.listByOrder(this.dataSource.manager, orderId);
  }

  /** The customer signed for the parcel. */
  async confirmByCustomer(id: string, context: WorkContext): Promise<Shipment> {
    return this.recordDelivery(
      (manager) => this.shipments.find(manager, id, { forUpdate: true }),
      new Date(),
      'CUSTOMER',
      context,
    );
  }

  /** The carrier reports the parcel delivered, at the time it says (by its webhook, or to the poll: `finishPoll`). */
  async recordCarrierReport(
    report: CarrierDeliveryReport,
    context: WorkContext,
    finishPoll?: FinishPoll,
  ): Promise<Shipment> {
    return this.recordDelivery(
      async (manager) => {
        const shipment = await this.shipments.findByCarrierShipmentId(manager, report.carrierShipmentId, {
          forUpdate: true,
        });
        if (shipment) {
          if (shipment.snapshot.orderId !== report.reference) throw new DeliveryReportMismatch();
          return shipment;
        }
        // Not known by the carrier's id (yet?). The lock waits for an answer being recorded right now, so the row
        // read here is the one it committed.
        const ordered = await this.shipments.findByOrder(manager, report.reference, { forUpdate: true });
        const s = ordered?.snapshot;
        if (s?.status === 'BOOKING') throw new ShipmentStillBooking();
        return s && 'booking' in s && s.booking.carrierShipmentId === report.carrierShipmentId ? ordered : undefined;
      },
      report.deliveredAt,
      'CARRIER',
      context,
      finishPoll,
    );
  }

  private async recordDelivery(
    locate: (manager: EntityManager) => Promise<Shipment | undefined>,
    at: Date,
    by: DeliveryReporter,
    context: WorkContext,
    finishPoll?: FinishPoll,
  ): Promise<Shipment> {
    return this.messaging.transaction(async (uow) => {
      const shipment = await locate(uow.manager);
      if (!shipment) throw new ShipmentNotFound();
      if (finishPoll) await finishPoll(uow.manager);
      else await this.deliveryPoll.cancel(uow.manager, shipment.snapshot.id);
      const delivery = shipment.recordDelivery(at, by, new Date());
      if (delivery) {
        await this.shipments.updateDelivery(uow.manager, shipment);
        const { id: shipmentId, orderId } = shipment.snapshot;
        uow.publish(ShipmentDelivered.of({ orderId, shipmentId, deliveredAt: delivery.deliveredAt }));
      }
      return shipment;
    }, context);
  }
}
