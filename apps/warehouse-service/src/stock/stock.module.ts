import { Module } from '@nestjs/common';
import { StockController } from './stock.controller.js';
import { StockCommands } from './stock.handlers.js';
import { StockRepository } from './stock.repository.js';
import { StockService } from './stock.service.js';

@Module({
  controllers: [StockController],
  providers: [StockService, StockRepository, StockCommands],
})
export class StockModule {}
