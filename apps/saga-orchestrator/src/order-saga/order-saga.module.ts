import { Module } from '@nestjs/common';
import { sagaMetricsProvider } from '@orderflow/saga';
import { OrderSagaHandlers } from './order-saga.handlers.js';
import { SagaActionsController } from './saga-actions.controller.js';
import { SagasController } from './sagas.controller.js';

@Module({
  controllers: [SagasController, SagaActionsController],
  providers: [sagaMetricsProvider, OrderSagaHandlers],
})
export class OrderSagaModule {}
