export * from './clock.js';
export * from './job-runner.js';
export * from './job-store.js';
export * from './scheduled-jobs.migration.js';
export * from './scheduling-config.js';
export * from './scheduling-metrics.js';
export * from './scheduling.module.js';
export * from './duration.js';
