import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  HandlesMessages,
  type IncomingMessage,
  Messaging,
  type MessageHandlerSet,
  type UnitOfWork,
} from '@orderflow/messaging';
import { SERVICE_CONFIG } from '@orderflow/platform';
import { registerSagaDeadlines, SagaEngine, SagaMetrics } from '@orderflow/saga';
import { type Clock, JobRunner, JobStore, SCHEDULER_CLOCK } from '@orderflow/scheduling';
import type { SagaServiceConfig } from '../config.js';
import { orderSaga, type OrderSagaData } from './order-saga.js';

/**
 * The saga's subscriptions: every event the order saga's table names goes to the engine, which applies the table
 * inside the message's unit of work (instance, history, outgoing commands and inbox commit together). Derived from
 * the definition, so a row added to the table is subscribed without anything else to change. Its deadlines come
 * from the durable scheduler instead of the broker, each in a unit of work of its own.
 */
@Injectable()
@HandlesMessages()
export class OrderSagaHandlers implements MessageHandlerSet, OnModuleInit {
  readonly engine: SagaEngine<OrderSagaData>;

  constructor(
    @Inject(SagaMetrics) metrics: SagaMetrics,
    @Inject(SERVICE_CONFIG) config: SagaServiceConfig,
    jobs: JobStore,
    @Inject(SCHEDULER_CLOCK) clock: Clock,
    private readonly runner: JobRunner,
    private readonly messaging: Messaging,
  ) {
    this.engine = new SagaEngine(orderSaga, metrics, { jobs, clock, delays: config.SAGA_DEADLINES });
  }

  onModuleInit(): void {
    registerSagaDeadlines(this.runner, this.messaging, [this.engine as SagaEngine<unknown>]);
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
