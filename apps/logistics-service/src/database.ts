import { CreateMessagingTables1763900000000, OutboxKeepsItsPages1765100000000 } from '@orderflow/messaging';
import { CreateOperatorActions1765000000000, type ServiceSchema } from '@orderflow/platform';
import { CreateScheduledJobs1764100000000, ScheduledJobsKeepTheirPages1765100000001 } from '@orderflow/scheduling';
import { CreateShipments1763881200000 } from './migrations/1763881200000-create-shipments.js';
import { ShipmentBookings1763940000000 } from './migrations/1763940000000-shipment-bookings.js';
import { ShipmentBookingIntents1763960000000 } from './migrations/1763960000000-shipment-booking-intents.js';

/** This service's own database: its entities and, in order, the migrations that build it. */
export const schema: ServiceSchema = {
  entities: [],
  migrations: [
    CreateShipments1763881200000,
    CreateMessagingTables1763900000000,
    ShipmentBookings1763940000000,
    ShipmentBookingIntents1763960000000,
    CreateScheduledJobs1764100000000,
    CreateOperatorActions1765000000000,
    OutboxKeepsItsPages1765100000000,
    ScheduledJobsKeepTheirPages1765100000001,
  ],
};
