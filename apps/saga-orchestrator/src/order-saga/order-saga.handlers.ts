import { Inject, Injectable } from '@nestjs/common';
import { HandlesMessages, type IncomingMessage, type MessageHandlerSet, type UnitOfWork } from '@orderflow/messaging';
import { SagaEngine, SagaMetrics } from '@orderflow/saga';
import { orderSaga, type OrderSagaData } from './order-saga.js';

/**
 * The saga's subscriptions: every event the order saga's table names goes to the engine, which applies the table
 * inside the message's unit of work (instance, history, outgoing commands and inbox commit together). Derived from
 * the definition, so a row added to the table is subscribed without anything else to change.
 */
@Injectable()
@HandlesMessages()
export class OrderSagaHandlers implements MessageHandlerSet {
  private readonly engine: SagaEngine<OrderSagaData>;

  constructor(@Inject(SagaMetrics) metrics: SagaMetrics) {
    this.engine = new SagaEngine(orderSaga, metrics);
  }

  messageHandlers() {
    return orderSaga.events.map(
      (event) =>
        [
          event,
          async (message: IncomingMessage, uow: UnitOfWork) => {
            await this.engine.handle(message, uow);
          },
        ] as const,
    );
  }
}
