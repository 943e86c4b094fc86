/** Answers the carrier delivery poll (delivery-poll.ts says why it exists): asks the carrier, records what it says. */
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ShipmentDeliveryUnreported } from '@orderflow/contracts';
import { Messaging } from '@orderflow/messaging';
import { type FinishPoll, formatDuration, type PollAnswer, StatusPolls } from '@orderflow/scheduling';
import { Carrier, CarrierUnavailable } from './carrier.js';
import { CarrierDeliveryPoll, type DeliveryPollData } from './delivery-poll.js';
import { ShipmentsRepository } from './shipments.repository.js';
import { ShipmentsService } from './shipments.service.js';

@Injectable()
export class CarrierDeliveryPolling implements OnModuleInit {
  constructor(
    private readonly polls: StatusPolls,
    private readonly delivery: CarrierDeliveryPoll,
    private readonly carrier: Carrier,
    private readonly shipments: ShipmentsService,
    private readonly repository: ShipmentsRepository,
    private readonly messaging: Messaging,
  ) {}

  onModuleInit(): void {
    this.polls.answer(this.delivery.poll, {
      ask: (data, _key, finish) => this.ask(data, finish),
      windowEnded: (data, _key, finish) => this.windowEnded(data, finish),
    });
  }

  private async ask(data: DeliveryPollData, finish: FinishPoll): Promise<PollAnswer> {
    let status;
    try {
      status = await this.carrier.status(data.carrierShipmentId);
    } catch (err) {
      if (err instanceof CarrierUnavailable) return { outcome: 'unanswered', reason: err.message };
      throw err;
    }
    if (!status.delivered) return { outcome: 'pending' };
    await this.shipments.recordCarrierReport(
      { carrierShipmentId: data.carrierShipmentId, reference: data.orderId, deliveredAt: status.deliveredAt },
      { correlationId: data.correlationId },
      finish,
    );
    return { outcome: 'applied' };
  }

  private async windowEnded(data: DeliveryPollData, finish: FinishPoll): Promise<void> {
    const window = formatDuration(this.delivery.poll.schedule.windowMs);
    await this.messaging.transaction(
      async (uow) => {
        const shipment = await this.repository.find(uow.manager, data.shipmentId, { forUpdate: true });
        await finish(uow.manager);
        // Delivered meanwhile (by the customer's signature, say): nothing is missing.
        if (shipment?.snapshot.status !== 'CREATED') return;
        const reason = `asking the carrier for ${window} found no delivery`;
        uow.publish(ShipmentDeliveryUnreported.of({ orderId: data.orderId, shipmentId: data.shipmentId, reason }));
      },
      { correlationId: data.correlationId },
    );
  }
}
