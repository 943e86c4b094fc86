import { CreateMessagingTables1763900000000, OutboxKeepsItsPages1765100000000 } from '@orderflow/messaging';
import { CreateOperatorActions1765000000000, type ServiceSchema } from '@orderflow/platform';
import { CreateStockItems1763881200000 } from './migrations/1763881200000-create-stock-items.js';
import { StockReservations1763930000000 } from './migrations/1763930000000-stock-reservations.js';

/** This service's own database: its entities and, in order, the migrations that build it. */
export const schema: ServiceSchema = {
  entities: [],
  migrations: [
    CreateStockItems1763881200000,
    CreateMessagingTables1763900000000,
    StockReservations1763930000000,
    CreateOperatorActions1765000000000,
    OutboxKeepsItsPages1765100000000,
  ],
};
