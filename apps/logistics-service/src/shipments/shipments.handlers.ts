import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { CreateShipment, type DataOf } from '@orderflow/contracts';
import { HandleMessage, type IncomingMessage, outgoingTraceContext, type UnitOfWork } from '@orderflow/messaging';
import { Shipment } from './shipment.js';
import { ShipmentBooker } from './shipment-booker.js';
import { outcomeOf } from './shipment-messages.js';
import { ShipmentsRepository } from './shipments.repository.js';

/**
 * Books the order's shipment with the carrier, once: a re-sent command is answered with the first outcome.
 *
 * The carrier is not called here. The message's transaction only records the intent to book (a BOOKING shipment,
 * with what the carrier is to be asked), and once it has committed, the ShipmentBooker asks the carrier, with no
 * transaction open, and records the answer with the ShipmentCreated or ShipmentRejected it leads to. So a slow or
 * failing carrier holds no pooled connection and never rolls back the consumer's batch (whose other commands would
 * be asked for again), and its answer is recorded moments after it is given, not after a batch's retry: before the
 * delivery report the carrier sends soon after. A report that comes sooner still finds the shipment BOOKING and is
 * asked to come back (see CarrierWebhookController).
 *
 * A re-sent command finds the shipment: BOOKING, it says nothing (the booker will publish the outcome, once);
 * answered, it publishes the same outcome again.
 */
@Injectable()
export class ShipmentBooking {
  constructor(
    private readonly shipments: ShipmentsRepository,
    private readonly booker: ShipmentBooker,
  ) {}

  @HandleMessage(CreateShipment)
  async onCreateShipment(message: IncomingMessage<DataOf<typeof CreateShipment>>, uow: UnitOfWork): Promise<void> {
    const { orderId, address, items } = message.data;
    const [earlier] = await this.shipments.listByOrder(uow.manager, orderId);
    if (earlier) {
      if (earlier.snapshot.status !== 'BOOKING') uow.publish(outcomeOf(earlier));
      return;
    }
    const shipment = Shipment.bookingRequested({
      id: randomUUID(),
      request: { orderId, address, parcels: items.map(({ sku, quantity }) => ({ sku, quantity })) },
      now: new Date(),
    });
    // The answer is recorded in another transaction, later: it carries on this message's correlation and trace.
    await this.shipments.insertBooking(uow.manager, shipment, {
      correlationId: message.correlationId,
      ...outgoingTraceContext(message),
    });
    // A hint only: if this process dies before the booker asks, the booker's sweep (of any replica) finds the intent.
    uow.afterCommit(() => this.booker.wake());
  }
}
