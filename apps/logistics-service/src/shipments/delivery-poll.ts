/**
 * The carrier's delivery, asked for as well as reported. A booked shipment's delivery comes by the carrier's webhook,
 * and a webhook can be lost (this service was down while the carrier tried, and it gave up); then nothing would ever
 * ask, and the order would wait for the saga's 14-day deadline. So recording a booking (ShipmentBooker) also starts a
 * poll of the carrier's `GET /v1/shipments/{id}` in the same transaction, on the schedule of
 * CARRIER_DELIVERY_POLL_* (libs/scheduling: poll-schedule.ts, status-poll.ts).
 *
 * A delivery the poll finds is recorded exactly as the webhook records it (ShipmentsService.recordCarrierReport), and
 * the poll's job ends in that transaction; a delivery recorded otherwise (webhook, customer) cancels the poll in its
 * own. Either way the delivery, and its `logistics.shipment-delivered`, is recorded once. A window that ends with the
 * shipment still CREATED tells the saga `logistics.delivery-unreported`, and the saga parks the order for an operator.
 */
import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG } from '@orderflow/platform';
import { type Queryable, type StatusPoll, StatusPolls } from '@orderflow/scheduling';
import type { LogisticsServiceConfig } from '../config.js';

export interface DeliveryPollData {
  shipmentId: string;
  orderId: string;
  carrierShipmentId: string;
  correlationId?: string;
}

/** The poll as the steps that start and cancel it see it; keyed by the shipment's id. */
@Injectable()
export class CarrierDeliveryPoll {
  readonly poll: StatusPoll<DeliveryPollData>;

  constructor(polls: StatusPolls, @Inject(SERVICE_CONFIG) config: LogisticsServiceConfig) {
    this.poll = polls.define<DeliveryPollData>('logistics.carrier-delivery', {
      firstIntervalMs: config.CARRIER_DELIVERY_POLL_FIRST_INTERVAL,
      maxIntervalMs: Math.max(config.CARRIER_DELIVERY_POLL_MAX_INTERVAL, config.CARRIER_DELIVERY_POLL_FIRST_INTERVAL),
      windowMs: config.CARRIER_DELIVERY_POLL_WINDOW,
    });
  }

  start(tx: Queryable, data: DeliveryPollData): Promise<void> {
    return this.poll.start(tx, data.shipmentId, data);
  }

  cancel(tx: Queryable, shipmentId: string): Promise<boolean> {
    return this.poll.cancel(tx, shipmentId);
  }
}
