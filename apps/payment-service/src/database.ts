import { CreateMessagingTables1763900000000, OutboxKeepsItsPages1765100000000 } from '@orderflow/messaging';
import { CreateOperatorActions1765000000000, type ServiceSchema } from '@orderflow/platform';
import { CreateScheduledJobs1764100000000, ScheduledJobsKeepTheirPages1765100000001 } from '@orderflow/scheduling';
import { CreatePayments1763881200000 } from './migrations/1763881200000-create-payments.js';
import { PaymentLifecycle1763950000000 } from './migrations/1763950000000-payment-lifecycle.js';
import { GatewayFollowUpsAsScheduledJobs1766000000000 } from './migrations/1766000000000-gateway-follow-ups-as-scheduled-jobs.js';

/** This service's own database: its entities and, in order, the migrations that build it. */
export const schema: ServiceSchema = {
  entities: [],
  migrations: [
    CreatePayments1763881200000,
    CreateMessagingTables1763900000000,
    PaymentLifecycle1763950000000,
    CreateScheduledJobs1764100000000,
    CreateOperatorActions1765000000000,
    OutboxKeepsItsPages1765100000000,
    ScheduledJobsKeepTheirPages1765100000001,
    GatewayFollowUpsAsScheduledJobs1766000000000,
  ],
};
