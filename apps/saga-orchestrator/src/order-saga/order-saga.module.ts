import { Module } from '@nestjs/common';
import { OrderSagaHandlers } from './order-saga.handlers.js';
import { SagasController } from './sagas.controller.js';

@Module({ controllers: [SagasController], providers: [OrderSagaHandlers] })
export class OrderSagaModule {}
