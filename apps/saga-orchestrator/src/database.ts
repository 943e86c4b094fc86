import { CreateMessagingTables1763900000000, OutboxKeepsItsPages1765100000000 } from '@orderflow/messaging';
import { CreateOperatorActions1765000000000, type ServiceSchema } from '@orderflow/platform';
import {
  CreateSagaTables1763910000000,
  SagaHistoryDeadlinesAndOperators1764200000000,
  SagaHistoryStepRows1764500000000,
  SagaCompositeArrivals1765200000000,
  SagaInstancesByCompletion1764300000000,
  SagaStateEnteredAt1764400000000,
} from '@orderflow/saga';
import { CreateScheduledJobs1764100000000, ScheduledJobsKeepTheirPages1765100000001 } from '@orderflow/scheduling';
import { CreateSagaInstances1763881200000 } from './migrations/1763881200000-create-saga-instances.js';

/** This service's own database: its entities and, in order, the migrations that build it. */
export const schema: ServiceSchema = {
  entities: [],
  migrations: [
    CreateSagaInstances1763881200000,
    CreateMessagingTables1763900000000,
    CreateSagaTables1763910000000,
    CreateScheduledJobs1764100000000,
    SagaHistoryDeadlinesAndOperators1764200000000,
    SagaInstancesByCompletion1764300000000,
    SagaStateEnteredAt1764400000000,
    SagaHistoryStepRows1764500000000,
    CreateOperatorActions1765000000000,
    OutboxKeepsItsPages1765100000000,
    ScheduledJobsKeepTheirPages1765100000001,
    SagaCompositeArrivals1765200000000,
  ],
};
