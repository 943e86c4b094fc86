import { type DynamicModule, Module } from '@nestjs/common';
import { BacklogMonitor, LOAD_SHEDDING_CONFIG } from './backlog-monitor.js';
import type { LoadSheddingConfig } from './load-shedding-config.js';
import { ShedLoadGuard } from './sheds-load.guard.js';

/**
 * Load shedding for a service that takes new work over HTTP: its modules register backlog signals with the
 * BacklogMonitor, and its routes that take new work carry @ShedsLoadWhenBacklogged().
 */
@Module({})
export class LoadSheddingModule {
  static forService(config: LoadSheddingConfig): DynamicModule {
    return {
      module: LoadSheddingModule,
      global: true,
      providers: [{ provide: LOAD_SHEDDING_CONFIG, useValue: config }, BacklogMonitor, ShedLoadGuard],
      exports: [BacklogMonitor, ShedLoadGuard, LOAD_SHEDDING_CONFIG],
    };
  }
}
