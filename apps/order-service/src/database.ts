import { CreateMessagingTables1763900000000, OutboxKeepsItsPages1765100000000 } from '@orderflow/messaging';
import { CreateOperatorActions1765000000000, type ServiceSchema } from '@orderflow/platform';
import { CreateScheduledJobs1764100000000, ScheduledJobsKeepTheirPages1765100000001 } from '@orderflow/scheduling';
import { CreateOrders1763881200000 } from './migrations/1763881200000-create-orders.js';
import { OrderDetailsAndIdempotency1763920000000 } from './migrations/1763920000000-order-details-and-idempotency.js';
import { Merchants1764000000000 } from './migrations/1764000000000-merchants.js';
import { Notifications1764100000001 } from './migrations/1764100000001-notifications.js';
import { IdempotencyKeysForAnyEndpoint1765200000000 } from './migrations/1765200000000-idempotency-keys-for-any-endpoint.js';

/** This service's own database: its entities and, in order, the migrations that build it. */
export const schema: ServiceSchema = {
  entities: [],
  migrations: [
    CreateOrders1763881200000,
    CreateMessagingTables1763900000000,
    OrderDetailsAndIdempotency1763920000000,
    Merchants1764000000000,
    CreateScheduledJobs1764100000000,
    Notifications1764100000001,
    CreateOperatorActions1765000000000,
    OutboxKeepsItsPages1765100000000,
    ScheduledJobsKeepTheirPages1765100000001,
    IdempotencyKeysForAnyEndpoint1765200000000,
  ],
};
