export * from './backlog.js';
export * from './backlog-monitor.js';
export * from './load-shedding-config.js';
export * from './load-shedding.module.js';
export * from './sheds-load.guard.js';
